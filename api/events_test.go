package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// sseEvent is one event read from the feed.
type sseEvent struct {
	ID, Type string
	Data     map[string]any
}

// readEvents opens the feed (resuming after last when set) and sends what
// it reads to out until ctx ends.
func readEvents(ctx context.Context, t *testing.T, f *fixture, last string, out chan<- sseEvent) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/events", nil)
	req.SetBasicAuth(key, secret)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed by the reading goroutine
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Type = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &ev.Data)
			case line == "" && ev.Type != "":
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
				ev = sseEvent{}
			}
		}
	}()
}

// A subscriber that disconnects and comes back with Last-Event-ID gets
// every event it missed, in order, and then the new ones; each event has an
// id, a time, the stream id and the stream as the API shows it.
func TestEventsResumeWithLastEventID(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan sseEvent, 100)
	readEvents(ctx, t, f, "", got)
	st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	first := <-got
	if first.Type != livestream.EventStreamCreated || first.ID == "" {
		t.Fatalf("first event: %+v", first)
	}
	data := first.Data["data"].(map[string]any)
	if first.Data["live_stream_id"] != st.ID || data["id"] != st.ID || first.Data["created_at"] == nil {
		t.Fatalf("the event lacks the stream: %v", first.Data)
	}
	cancel() // the subscriber goes away
	time.Sleep(100 * time.Millisecond)

	// Meanwhile: a rename, activation, a key reset, idle.
	name := "Renamed"
	if _, err := f.eng.Update(st.ID, livestream.UpdateParams{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.Activate(st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.ResetStreamKey(st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.Idle(st.ID); err != nil {
		t.Fatal(err)
	}

	ctx2 := t.Context()
	got2 := make(chan sseEvent, 100)
	readEvents(ctx2, t, f, first.ID, got2)
	if err := f.eng.Delete(st.ID); err != nil {
		t.Fatal(err)
	}
	var types []string
	prev, _ := strconv.ParseUint(first.ID, 10, 64)
	timeout := time.After(5 * time.Second)
	for len(types) == 0 || types[len(types)-1] != livestream.EventStreamDeleted {
		select {
		case ev := <-got2:
			id, err := strconv.ParseUint(ev.ID, 10, 64)
			if err != nil || id <= prev {
				t.Fatalf("event id %q after %d", ev.ID, prev)
			}
			prev = id
			types = append(types, ev.Type)
		case <-timeout:
			t.Fatalf("events after reconnecting: %v", types)
		}
	}
	// Output status events of the HLS output may come between; the stream's
	// own events come in order, none missed.
	var own []string
	for _, ty := range types {
		if strings.HasPrefix(ty, "live_stream.") {
			own = append(own, ty)
		}
	}
	want := []string{livestream.EventStreamUpdated, livestream.EventStreamActive, livestream.EventStreamKeyReset, livestream.EventStreamIdle, livestream.EventStreamDeleted}
	if strings.Join(own, " ") != strings.Join(want, " ") {
		t.Fatalf("after reconnecting: %v, want %v", own, want)
	}
}

// A Last-Event-ID that is not an event id is refused.
func TestEventsBadLastEventID(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.base+"/events", nil)
	req.SetBasicAuth(key, secret)
	req.Header.Set("Last-Event-ID", "yesterday")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
