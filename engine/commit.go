package engine

import (
	"fmt"

	"github.com/onair-studio/onair/engine/livestream"
)

// A commit is one change waiting to be stored, with what follows once it
// is. Commits are stored in the order they were queued, several in one
// transaction (group commit: one fsync for every change that arrived while
// the previous group was being written), and finished in that order.
type commit struct {
	change livestream.Change
	// ev is published once the commit is finished: always when happened
	// (the event took place whether or not its outbox items could be
	// stored), else only when the change was stored.
	ev       *livestream.Event
	happened bool
	// after runs under mu when the commit is finished, with the store's
	// answer.
	after func(err error)
	err   error
	done  chan struct{}
}

// enqueueLocked queues c for the committer.
func (s *Service) enqueueLocked(c *commit) {
	if c.done == nil {
		c.done = make(chan struct{})
	}
	if s.commitsStopped {
		c.err = ErrClosed
		if c.after != nil {
			c.after(c.err)
		}
		close(c.done)
		return
	}
	s.queue = append(s.queue, c)
	s.inflight++
	s.lastQueued = c
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// unlockWait releases the lock, then waits until every change and event
// queued so far is finished: a call answers only once what it did is
// stored, and calls that overlap share one write.
func (s *Service) unlockWait() {
	var last *commit
	if s.inflight > 0 {
		last = s.lastQueued
	}
	s.mu.Unlock()
	if last != nil {
		<-last.done
	}
}

// commitLoop stores queued commits in groups until stopCommits is closed
// and nothing is queued.
func (s *Service) commitLoop() {
	for {
		select {
		case <-s.wake:
		case <-s.stopCommits:
		}
		s.mu.Lock()
		group := s.queue
		s.queue = nil
		if len(group) == 0 {
			select {
			case <-s.stopCommits:
				s.commitsStopped = true
				s.mu.Unlock()
				return
			default:
			}
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		s.store(group)
		s.finish(group)
	}
}

// store writes the group in one transaction. When that fails, each is
// tried alone, so one bad change does not fail the others.
func (s *Service) store(group []*commit) {
	changes := make([]livestream.Change, 0, len(group))
	for _, c := range group {
		if !c.change.Empty() {
			changes = append(changes, c.change)
		}
	}
	if len(changes) == 0 {
		return
	}
	err := s.Repo.Commit(changes)
	if err == nil {
		return
	}
	for _, c := range group {
		if c.change.Empty() {
			continue
		}
		if len(changes) == 1 {
			c.err = err
			continue
		}
		if c.err = s.Repo.Commit([]livestream.Change{c.change}); c.err != nil {
			s.Logger.Error("storing a change", "live_stream", changeStream(c.change), "error", c.err)
		}
	}
}

// finish completes the group in order: each commit's after, its event,
// then the stored outbox items go to the webhooks and the callers wake.
func (s *Service) finish(group []*commit) {
	var stored []livestream.OutboxItem
	s.mu.Lock()
	for _, c := range group {
		s.inflight--
		if c.after != nil {
			c.after(c.err)
		}
		if c.ev != nil && (c.err == nil || c.happened) {
			s.publishEventLocked(*c.ev)
		}
		if c.err == nil {
			stored = append(stored, c.change.Outbox...)
		}
	}
	s.mu.Unlock()
	if len(stored) > 0 && s.Outbox != nil {
		s.Outbox.Stored(stored)
	}
	for _, c := range group {
		close(c.done)
	}
}

func changeStream(c livestream.Change) string {
	if c.Put != nil {
		return c.Put.ID
	}
	return c.Delete
}

// A plan is one change of a stream: its event, the stream as it will be
// (nil: removed) and what to do under the lock once it is stored, before
// the new state is published (sessions, the key table; it may set the
// event's stream, as a removed stream's last state).
type plan struct {
	what  string // for errors: "storing live stream X"
	ev    livestream.Event
	next  *livestream.LiveStream
	apply func(e *entry, ev *livestream.Event)
}

// mutate is the one write path of a stream: under the lock, decide makes
// the plan from the stream as it is (no other change of it is in flight:
// changes of one stream are applied one after another, changes of
// different streams are stored together); the stream and its event's
// outbox items are stored in one transaction; then, in commit order and
// under the lock, the entry takes the new configuration, apply runs, the
// state is published and the event emitted. It returns once all that is
// done.
func (s *Service) mutate(id string, decide func(e *entry) (plan, error)) error {
	for {
		s.mu.Lock()
		e, err := s.lookupLocked(id)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		if busy := e.busy; busy != nil {
			s.mu.Unlock()
			<-busy
			continue
		}
		p, err := decide(e)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		c := s.stageLocked(e, p)
		s.mu.Unlock()
		<-c.done
		return wrap(p.what, c.err)
	}
}

// wrap says what was being done when err happened (nil stays nil).
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// stageLocked numbers the plan's event, prepares its outbox items from the
// stream as it will be, and queues the commit; e is busy until it is
// finished.
func (s *Service) stageLocked(e *entry, p plan) *commit {
	s.bus.Number(&p.ev)
	c := &commit{ev: &p.ev, done: make(chan struct{})}
	e.busy = c.done
	if p.next != nil {
		c.change.Put = p.next
	} else {
		c.change.Delete = e.id
	}
	if s.Outbox != nil {
		cfg := e.cfg
		if p.next != nil {
			cfg = *p.next
		}
		staged := p.ev
		s.attach(&staged, s.compose(cfg, e.sess))
		c.change.Outbox = s.Outbox.Prepare(staged)
	}
	c.after = func(err error) {
		e.busy = nil
		if err != nil {
			return
		}
		if p.next != nil {
			e.cfg = *p.next
		}
		if p.apply != nil {
			p.apply(e, c.ev)
		}
		if p.next != nil {
			s.publishLocked(e)
		}
	}
	s.enqueueLocked(c)
	return c
}
