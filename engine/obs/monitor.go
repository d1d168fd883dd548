package obs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/andreykaipov/goobs"

	"github.com/onair-studio/onair/engine/livestream"
)

// Monitor follows one OBS for everyone who shows its status: the window's
// stream page and the API read the same snapshot, taken over one
// connection once a second while someone watches or asks. Nobody asking,
// it holds no connection; OBS not running, it tries again after 2 s, then
// longer pauses up to 30 s, and at once when poked (a page opened, the
// settings saved, a button pressed).
type Monitor struct {
	settings func() livestream.OBSSettings
	// Interval between reads over an open connection; 1 s.
	Interval time.Duration

	mu       sync.Mutex
	last     livestream.OBSSnapshot
	lastSet  livestream.OBSSettings // the settings last was read with
	watchers int                    // Watch calls running
	askers   int                    // Status calls waiting for a fresh snapshot
	wake     chan struct{}
	changed  chan struct{} // closed and replaced at each snapshot
}

// NewMonitor makes a monitor reaching OBS with the settings settings
// returns (read at each connection). Run it.
func NewMonitor(settings func() livestream.OBSSettings) *Monitor {
	return &Monitor{settings: settings, Interval: time.Second, wake: make(chan struct{}, 1), changed: make(chan struct{})}
}

// Poke makes the monitor read OBS now: after OBS was told to do something
// or its connection settings changed.
func (m *Monitor) Poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Watch calls f with each new snapshot, on the caller's goroutine, until
// ctx ends; a slow f misses snapshots, never holds up the monitor. The
// monitor reads OBS while anyone watches.
func (m *Monitor) Watch(ctx context.Context, f func(livestream.OBSSnapshot)) {
	m.mu.Lock()
	m.watchers++
	ch := m.changed
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.watchers--
		m.mu.Unlock()
	}()
	m.Poke()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		m.mu.Lock()
		s := m.last
		ch = m.changed
		m.mu.Unlock()
		f(s)
	}
}

// Status returns OBS's status: the last snapshot when it is at most two
// intervals old and was read with the current settings, else the next such
// one (waiting for it until ctx ends).
func (m *Monitor) Status(ctx context.Context) (livestream.OBSStatus, error) {
	set := m.settings()
	m.mu.Lock()
	m.askers++
	defer func() {
		m.mu.Lock()
		m.askers--
		m.mu.Unlock()
	}()
	for {
		s, ch := m.last, m.changed
		fresh := !s.At.IsZero() && time.Since(s.At) <= 2*m.Interval && m.lastSet == set
		m.mu.Unlock()
		if fresh {
			return s.Status, s.Err
		}
		m.Poke()
		select {
		case <-ch:
		case <-ctx.Done():
			return livestream.OBSStatus{}, ErrNotRunning
		}
		m.mu.Lock()
	}
}

// Last returns the latest snapshot without asking for a new one: OBS is
// read only while someone watches or asks, so it may be old (see At).
func (m *Monitor) Last() livestream.OBSSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// wanted tells whether anyone watches or waits.
func (m *Monitor) wanted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.watchers > 0 || m.askers > 0
}

// publish stores a snapshot and wakes the watchers and askers.
func (m *Monitor) publish(set livestream.OBSSettings, st livestream.OBSStatus, err error) {
	m.mu.Lock()
	lost := err != nil && !m.last.At.IsZero() && m.last.Err == nil && m.lastSet == set
	s := livestream.OBSSnapshot{Status: st, Err: err, At: time.Now(), Lost: lost}
	m.last, m.lastSet = s, set
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// Run follows OBS until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	const minPause, maxPause = 2 * time.Second, 30 * time.Second
	pause := minPause
	for ctx.Err() == nil {
		if !m.wanted() {
			if !m.sleep(ctx, 0) {
				return
			}
			continue
		}
		set := m.settings()
		c := &Client{Host: set.Host, Port: set.Port, Password: set.Password}
		cl, err := c.connect(ctx, 0)
		if err != nil {
			m.publish(set, livestream.OBSStatus{}, err)
			if !m.sleep(ctx, pause) {
				return
			}
			pause = min(2*pause, maxPause)
			continue
		}
		pause = minPause
		m.follow(ctx, cl, set)
		_ = cl.Disconnect()
	}
}

// follow reads OBS over one connection every interval while it answers,
// anyone wants it and the settings stay the same.
func (m *Monitor) follow(ctx context.Context, cl *goobs.Client, set livestream.OBSSettings) {
	for {
		st, err := readStatus(cl)
		if err != nil && !errors.Is(err, ErrPassword) {
			err = ErrNotRunning // the connection broke: OBS quit or crashed
		}
		m.publish(set, st, err)
		if err != nil || !m.sleep(ctx, m.Interval) || !m.wanted() || m.settings() != set {
			return
		}
	}
}

// sleep waits d (0: until poked), a poke or the end of ctx; false when ctx
// ended.
func (m *Monitor) sleep(ctx context.Context, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-m.wake:
	case <-timer:
	}
	return true
}
