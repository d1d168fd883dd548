// Package webhook posts the studio's events to the URLs users register:
// each delivery signed with the webhook's secret (Stripe's and Mux's
// scheme), carrying the event's id for idempotency. Events go through an
// outbox in the store, written before the call that caused them returns,
// so an event the API answered for survives a restart or a crash; a
// worker delivers them in order per webhook and stream, trying again with
// exponential backoff for up to a day.
//
// Each webhook is on its own: it has its own delivery slots, its own
// backoff (one failure pauses that webhook, not each of its streams) and a
// bounded queue, so a receiver that is down, slow or never answers delays
// and costs nothing but its own deliveries.
package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/netlimit"
)

// Store keeps webhooks, the outbox and the latest deliveries (the studio's
// bbolt store). Each call is one transaction.
type Store interface {
	LoadWebhooks() ([]livestream.Webhook, error)
	PutWebhook(livestream.Webhook) error
	DeleteWebhook(id string) error
	LoadOutbox() ([]livestream.OutboxItem, error)
	Delivered(livestream.OutboxItem, livestream.WebhookDelivery) error
	DropOutbox([]livestream.OutboxItem) error
	Deliveries(id string, limit int) ([]livestream.WebhookDelivery, error)
}

// Signature headers and the like, as receivers see them.
const (
	HeaderSignature = "X-OnAir-Signature" // t=UNIX,v1=HEX(HMAC-SHA256(secret, "t.body"))
	HeaderEventID   = "X-OnAir-Event-Id"  // the same for every attempt: receivers drop repeats by it
	HeaderAttempt   = "X-OnAir-Delivery-Attempt"
)

// Limits of the webhooks, whatever the settings.
const (
	// MaxWebhooks is how many webhooks the studio keeps.
	MaxWebhooks = 20
	// DefaultMaxQueued is how many undelivered events a webhook keeps;
	// past it the oldest are dropped (counted as abandoned).
	DefaultMaxQueued = 1000
)

// Dispatcher runs the webhooks.
type Dispatcher struct {
	//
	// parameters
	//
	// Store is required.
	Store Store
	// Encode turns an event into the JSON body. Required.
	Encode func(livestream.Event) ([]byte, error)
	// Timeout bounds one delivery attempt. It defaults to 10 s.
	Timeout time.Duration
	// MaxAge is how long an event is tried. It defaults to 24 h.
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound a failing webhook's pause between
	// attempts, which doubles from the first. They default to 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// Concurrency bounds one webhook's deliveries in flight (each stream's
	// events go in order, one at a time). It defaults to 4.
	Concurrency int
	// MaxQueued bounds one webhook's undelivered events. It defaults to
	// DefaultMaxQueued.
	MaxQueued int
	// LogEvery is the shortest time between two log lines about one
	// failing webhook. It defaults to 1 min.
	LogEvery time.Duration
	// UserAgent defaults to "OnAirStudio-Webhooks".
	UserAgent string
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// private
	//
	client *http.Client
	mu     sync.Mutex
	hooks  map[string]*hookState
	// drops are items taken out of full queues, to be removed from the
	// store by the worker (under mu).
	drops    []livestream.OutboxItem
	wake     chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	counts   [3]atomic.Uint64 // delivered, failed, abandoned
	enqueued atomic.Uint64
}

// hookState is one webhook with what waits for it (under the
// dispatcher's mu).
type hookState struct {
	hook livestream.Webhook
	// pending mirrors the webhook's part of the outbox, oldest first: the
	// worker scans it without reading the store.
	pending []livestream.OutboxItem
	// inflight holds, per stream, the sequence number of the item being
	// delivered.
	inflight map[string]uint64
	failures int // attempts failed in a row
	// failingSince is the first of those failures.
	failingSince time.Time
	until        time.Time // a failing webhook's next attempt
	dropped      uint64    // items dropped from a full queue since the start
	log          *netlimit.RateLog
}

// Start loads the webhooks and starts delivering what the outbox holds.
func (d *Dispatcher) Start() error {
	if d.Store == nil || d.Encode == nil {
		return errors.New("webhook: Store and Encode are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	d.Timeout = cmp.Or(d.Timeout, 10*time.Second)
	d.MaxQueued = cmp.Or(d.MaxQueued, DefaultMaxQueued)
	d.LogEvery = cmp.Or(d.LogEvery, time.Minute)
	d.MaxAge = cmp.Or(d.MaxAge, 24*time.Hour)
	d.MinBackoff = cmp.Or(d.MinBackoff, time.Second)
	d.MaxBackoff = cmp.Or(d.MaxBackoff, time.Minute)
	if d.Concurrency <= 0 {
		d.Concurrency = 4
	}
	if d.UserAgent == "" {
		d.UserAgent = "OnAirStudio-Webhooks"
	}
	d.client = &http.Client{
		Timeout:   d.Timeout,
		Transport: transport(),
		// A redirect is not followed: the receiver must answer itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	list, err := d.Store.LoadWebhooks()
	if err != nil {
		return fmt.Errorf("loading webhooks: %w", err)
	}
	d.hooks = make(map[string]*hookState, len(list))
	for _, w := range list {
		d.hooks[w.ID] = d.newState(w)
	}
	items, err := d.Store.LoadOutbox()
	if err != nil {
		return fmt.Errorf("reading the webhook outbox: %w", err)
	}
	d.add(items)
	d.wake = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Go(func() { d.run(ctx) })
	return nil
}

// Close stops the worker; what was not delivered stays in the outbox.
func (d *Dispatcher) Close() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	if d.hooks != nil {
		d.dropStored() // what full queues dropped since the last batch
	}
}

// Prepare returns ev's outbox items, one per webhook that wants it (none
// without webhooks); the body is encoded once.
func (d *Dispatcher) Prepare(ev livestream.Event) []livestream.OutboxItem {
	d.mu.Lock()
	var to []string
	for _, h := range d.hooks {
		if h.hook.Wants(ev.Type) {
			to = append(to, h.hook.ID)
		}
	}
	d.mu.Unlock()
	if len(to) == 0 {
		return nil
	}
	body, err := d.Encode(ev)
	if err != nil {
		d.Logger.Error("encoding an event for webhooks", "event", ev.ID, "error", err)
		return nil
	}
	now := time.Now()
	items := make([]livestream.OutboxItem, 0, len(to))
	for _, id := range to {
		items = append(items, livestream.OutboxItem{WebhookID: id, EventID: ev.ID, Type: ev.Type, StreamID: ev.StreamID,
			Body: body, CreatedAt: now, NextAt: now})
	}
	return items
}

// Stored hands over outbox items once they are durable (the engine stores
// them with the change that caused their event), in their order.
func (d *Dispatcher) Stored(items []livestream.OutboxItem) {
	d.add(items)
	d.enqueued.Add(uint64(len(items)))
	d.poke()
}

// newState is a webhook with nothing waiting.
func (d *Dispatcher) newState(w livestream.Webhook) *hookState {
	return &hookState{hook: w, inflight: map[string]uint64{},
		log: &netlimit.RateLog{Every: d.LogEvery, Logger: d.Logger}}
}

// add appends stored items to their webhooks' queues; a queue over
// MaxQueued loses its oldest items that are not being delivered.
func (d *Dispatcher) add(items []livestream.OutboxItem) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var full []*hookState
	for _, it := range items {
		h := d.hooks[it.WebhookID]
		if h == nil {
			continue // deleted meanwhile: its items went with it
		}
		h.pending = append(h.pending, it)
		if len(h.pending) > d.MaxQueued && !slices.Contains(full, h) {
			full = append(full, h)
		}
	}
	for _, h := range full {
		d.trimLocked(h, len(h.pending)-d.MaxQueued)
	}
}

// trimLocked drops the webhook's over oldest items that are not being
// delivered. They are at the head of the queue, so the queue is resliced,
// not copied; the few items in flight there keep their place.
func (d *Dispatcher) trimLocked(h *hookState, over int) {
	var kept []livestream.OutboxItem
	i := 0
	for ; i < len(h.pending) && over > 0; i++ {
		it := h.pending[i]
		if h.inflight[it.StreamID] == it.Seq {
			kept = append(kept, it)
			continue
		}
		d.drops = append(d.drops, it)
		h.dropped++
		over--
	}
	d.count(livestream.DeliveryAbandoned, i-len(kept))
	copy(h.pending[i-len(kept):i], kept)
	h.pending = h.pending[i-len(kept):]
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Counts are deliveries by outcome since the start.
type Counts struct {
	Delivered, Failed, Abandoned, Enqueued uint64
}

// Counts returns the deliveries so far.
func (d *Dispatcher) Counts() Counts {
	return Counts{Delivered: d.counts[0].Load(), Failed: d.counts[1].Load(), Abandoned: d.counts[2].Load(), Enqueued: d.enqueued.Load()}
}

// newSecret makes a signing secret.
func newSecret() string { return "whsec_" + livestream.RandomHex(24) }

func newID() string { return "wh_" + livestream.RandomHex(12) }
