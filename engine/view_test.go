package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/livestream"
)

// Reads answer while a change is being stored (the engine's lock is held
// across the fsync), and show the state before it; once stored, they show
// the change.
func TestReadsDoNotWaitOnTheStore(t *testing.T) {
	eng, repo, ls := stallingEngine(t)
	repo.stall, repo.stalled = make(chan struct{}), make(chan struct{})
	renamed := make(chan error, 1)
	go func() {
		name := "renamed"
		_, err := eng.Update(ls.ID, livestream.UpdateParams{Name: &name})
		renamed <- err
	}()
	<-repo.stalled
	reads := map[string]func() (string, error){
		"Get": func() (string, error) {
			g, err := eng.Get(ls.ID)
			return g.Name, err
		},
		"List": func() (string, error) {
			l, err := eng.List()
			if len(l) != 1 {
				return "", err
			}
			return l[0].Name, err
		},
		"ListPage": func() (string, error) {
			l, total, _, err := eng.ListPage(nil, 10)
			if len(l) != 1 || total != 1 {
				return "", err
			}
			return l[0].Name, err
		},
		"GetOutput": func() (string, error) {
			o, err := eng.GetOutput(ls.ID, ls.Outputs[0].ID)
			return o.Name, err
		},
	}
	for name, read := range reads {
		done := make(chan string, 1)
		go func() {
			got, err := read()
			if err != nil {
				got = err.Error()
			}
			done <- got
		}()
		select {
		case got := <-done:
			if want := map[bool]string{true: "HLS", false: ls.Name}[name == "GetOutput"]; got != want {
				t.Errorf("%s during the write: %q, want %q", name, got, want)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("%s waited for a change being stored", name)
		}
	}
	close(repo.stall)
	if err := <-renamed; err != nil {
		t.Fatal(err)
	}
	if g, _ := eng.Get(ls.ID); g.Name != "renamed" {
		t.Fatalf("after the write: %q", g.Name)
	}
}

// Pages follow list order (newest first, then id) and continue at the
// right place when the stream a position names was deleted.
func TestListPages(t *testing.T) {
	r := newRig(t)
	defer r.close()
	for range 25 {
		create(t, r.eng, 60)
	}
	all, err := r.eng.List()
	if err != nil || len(all) != 25 {
		t.Fatalf("%d streams, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID {
			t.Fatalf("list out of order at %d", i)
		}
	}
	var paged []string
	var after *livestream.ListPosition
	for {
		page, total, more, err := r.eng.ListPage(after, 7)
		if err != nil || total != 25 {
			t.Fatalf("total %d, %v", total, err)
		}
		for _, st := range page {
			paged = append(paged, st.ID)
		}
		if !more {
			break
		}
		last := page[len(page)-1]
		after = &livestream.ListPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if len(paged) != 25 {
		t.Fatalf("paged %d streams", len(paged))
	}
	for i := range paged {
		if paged[i] != all[i].ID {
			t.Fatalf("page order differs from list order at %d", i)
		}
	}
	// The stream at a position is deleted: the next page starts after it.
	pos := livestream.ListPosition{CreatedAt: all[9].CreatedAt, ID: all[9].ID}
	if err := r.eng.Delete(all[9].ID); err != nil {
		t.Fatal(err)
	}
	page, total, _, err := r.eng.ListPage(&pos, 3)
	if err != nil || total != 24 || len(page) != 3 || page[0].ID != all[10].ID {
		t.Fatalf("after deleting the position's stream: %d, %v, first %v", total, err, page)
	}
	if _, err := r.eng.Get(all[9].ID); err == nil {
		t.Fatal("deleted stream still readable")
	}
	r.eng.Close()
	if _, err := r.eng.Get(all[0].ID); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
}

// memRepo keeps streams in memory: a benchmark of the engine's reads
// should not spend its setup on 2,000 fsyncs.
type memRepo struct{}

func (memRepo) LoadStreams() ([]livestream.LiveStream, error) { return nil, nil }
func (memRepo) Commit([]livestream.Change) error              { return nil }

// BenchmarkListPage: a page of 10 from the middle of 2,000 streams.
func BenchmarkListPage(b *testing.B) {
	eng := &engine.Service{Repo: memRepo{}, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", Logger: quiet()}
	if err := eng.Start(); err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	typ := "rtmp"
	for range 2000 {
		if _, err := eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}}); err != nil {
			b.Fatal(err)
		}
	}
	all, _ := eng.List()
	pos := &livestream.ListPosition{CreatedAt: all[1000].CreatedAt, ID: all[1000].ID}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		items, _, _, err := eng.ListPage(pos, 10)
		if err != nil || len(items) != 10 {
			b.Fatal(len(items), err)
		}
	}
}
