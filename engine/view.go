package engine

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Reads never take the engine's lock, which writers hold while a change is
// stored (an fsync). Every change, made under the lock after it is stored,
// publishes the stream's new state to its entry; creating or deleting a
// stream also publishes a new table (the streams in list order and by id).
// Readers load both atomically: what they see is always a state that was
// stored, in the order it was stored, and a list page costs the page, not
// the table.

// table is one version of the stream table. It is never changed once
// published.
type table struct {
	order []*entry // newest first, then by id
	byID  map[string]*entry
}

// before reports whether a comes before b in list order.
func before(aCreated time.Time, aID string, bCreated time.Time, bID string) bool {
	if c := aCreated.Compare(bCreated); c != 0 {
		return c > 0
	}
	return aID < bID
}

// compareEntries orders entries as the list is: newest first, then by id.
func compareEntries(x, y *entry) int {
	switch {
	case x == y:
		return 0
	case before(x.created, x.id, y.created, y.id):
		return -1
	}
	return 1
}

// publishLocked makes e's current state what readers see.
func (s *Service) publishLocked(e *entry) {
	st := s.stateLocked(e)
	s.version++
	st.Version = s.version
	e.state.Store(&st)
}

// addLocked publishes a table with e added.
func (s *Service) addLocked(e *entry) {
	old := s.table.Load()
	t := &table{byID: make(map[string]*entry, len(old.byID)+1)}
	maps.Copy(t.byID, old.byID)
	t.byID[e.id] = e
	i, _ := slices.BinarySearchFunc(old.order, e, compareEntries)
	t.order = slices.Insert(slices.Clone(old.order), i, e)
	s.publishLocked(e)
	s.table.Store(t)
}

// removeLocked publishes a table without e.
func (s *Service) removeLocked(e *entry) {
	old := s.table.Load()
	t := &table{byID: make(map[string]*entry, len(old.byID))}
	for k, v := range old.byID {
		if k != e.id {
			t.byID[k] = v
		}
	}
	t.order = slices.DeleteFunc(slices.Clone(old.order), func(x *entry) bool { return x == e })
	s.table.Store(t)
}

// newTable builds the first table from the loaded entries.
func newTable(entries map[string]*entry) *table {
	t := &table{byID: make(map[string]*entry, len(entries))}
	for id, e := range entries {
		t.byID[id] = e
		t.order = append(t.order, e)
	}
	slices.SortFunc(t.order, compareEntries)
	return t
}

// Get returns one live stream. The result shares its slices with the
// engine's published state: read it, do not change it.
func (s *Service) Get(id string) (livestream.StreamState, error) {
	if s.readClosed.Load() {
		return livestream.StreamState{}, ErrClosed
	}
	e := s.table.Load().byID[id]
	if e == nil {
		return livestream.StreamState{}, fmt.Errorf("live stream %q: %w", id, livestream.ErrNotFound)
	}
	return *e.state.Load(), nil
}

// List returns every live stream, newest first (ties by id). Like Get, the
// results are read-only.
func (s *Service) List() ([]livestream.StreamState, error) {
	if s.readClosed.Load() {
		return nil, ErrClosed
	}
	t := s.table.Load()
	out := make([]livestream.StreamState, len(t.order))
	for i, e := range t.order {
		out[i] = *e.state.Load()
	}
	return out, nil
}

// ListPage returns at most limit live streams in list order, starting
// after the position (nil: from the first), how many there are in all, and
// whether more follow the page. A position whose stream was deleted
// meanwhile still finds its place.
func (s *Service) ListPage(after *livestream.ListPosition, limit int) (items []livestream.StreamState, total int, more bool, err error) {
	if s.readClosed.Load() {
		return nil, 0, false, ErrClosed
	}
	t := s.table.Load()
	start := 0
	if after != nil {
		created := after.CreatedAt
		start, _ = slices.BinarySearchFunc(t.order, after, func(e *entry, p *livestream.ListPosition) int {
			// e is at or before the position: search further.
			if e.id == p.ID && e.created.Equal(created) || before(e.created, e.id, created, p.ID) {
				return -1
			}
			return 1
		})
	}
	end := min(start+max(limit, 0), len(t.order))
	items = make([]livestream.StreamState, 0, end-start)
	for _, e := range t.order[start:end] {
		items = append(items, *e.state.Load())
	}
	return items, len(t.order), end < len(t.order), nil
}

// Republish publishes every stream's state again, for a change outside
// the engine that its views show (an output factory's uri).
func (s *Service) Republish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.streams {
		s.publishLocked(e)
	}
}
