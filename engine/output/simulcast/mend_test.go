package simulcast

import (
	"testing"

	"github.com/bluenviron/gortmplib/pkg/amf0"
)

// A bare command name (FFmpeg's onFCPublish) gets a transaction id and a
// null; a whole command is left alone.
func TestMendCommand(t *testing.T) {
	bare, _ := amf0.Data{"onFCPublish"}.Marshal()
	got, ok := mendCommand(bare)
	if !ok {
		t.Fatal("a bare command was not mended")
	}
	data, err := amf0.Unmarshal(got)
	if err != nil || len(data) != 3 || data[0] != "onFCPublish" || data[1] != float64(0) || data[2] != nil {
		t.Fatalf("mended into %#v %v", data, err)
	}
	whole, _ := amf0.Data{"_result", float64(2), nil, float64(1)}.Marshal()
	if _, ok := mendCommand(whole); ok {
		t.Fatal("a whole command was changed")
	}
}

// Whatever a server sends, mending neither panics nor makes a command
// gortmplib would refuse.
func FuzzMendCommand(f *testing.F) {
	for _, d := range []amf0.Data{{"onFCPublish"}, {"_result", float64(1)}, {"onStatus", float64(0), nil, amf0.Object{{Key: "level", Value: "status"}}}} {
		b, _ := d.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, ok := mendCommand(body)
		if !ok {
			return
		}
		data, err := amf0.Unmarshal(out)
		if err != nil || len(data) < 3 {
			t.Fatalf("mended into %#v %v", data, err)
		}
		if _, ok := data[1].(float64); !ok {
			t.Fatalf("no transaction id: %#v", data)
		}
	})
}
