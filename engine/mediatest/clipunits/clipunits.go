// Package clipunits turns a test clip into media units as ingest does, for
// tests of outputs that need real media without an RTMP connection.
package clipunits

import (
	"testing"

	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

// Units returns the tracks and units of clip c; each unit's Tracks is set.
func Units(t testing.TB, c mediatest.Clip) (media.Tracks, []*media.Unit) {
	t.Helper()
	tags, err := mediatest.ReadFLV(c.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	var d ingest.Depacketizer
	var units []*media.Unit
	for _, tg := range tags {
		var u *media.Unit
		if tg.Video {
			u, err = d.Video(tg.Timestamp, tg.Body)
		} else {
			u, err = d.Audio(tg.Timestamp, tg.Body)
		}
		if err != nil {
			t.Fatal(err)
		}
		if u != nil {
			units = append(units, u)
		}
	}
	tr := d.Tracks()
	for _, u := range units {
		u.Tracks = &tr
	}
	return tr, units
}

// Copy returns copies of the units, as a new publisher would send them
// (the hub changes the timestamps of what it is given).
func Copy(us []*media.Unit) []*media.Unit {
	out := make([]*media.Unit, len(us))
	for i, u := range us {
		c := *u
		out[i] = &c
	}
	return out
}
