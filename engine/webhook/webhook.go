// Package webhook posts the studio's events to the URLs users register:
// each delivery signed with the webhook's secret (Stripe's and Mux's
// scheme), carrying the event's id for idempotency. Events go through an
// outbox in the store, written before the call that caused them returns,
// so an event the API answered for survives a restart or a crash; a
// worker delivers them in order per webhook and stream, trying again with
// exponential backoff for up to a day.
package webhook

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Store keeps webhooks, the outbox and the latest deliveries (the studio's
// bbolt store). Each call is one transaction.
type Store interface {
	LoadWebhooks() ([]livestream.Webhook, error)
	PutWebhook(livestream.Webhook) error
	DeleteWebhook(id string) error
	Enqueue([]livestream.OutboxItem) error
	LoadOutbox() ([]livestream.OutboxItem, error)
	Delivered(livestream.OutboxItem, livestream.WebhookDelivery) error
	Deliveries(id string, limit int) ([]livestream.WebhookDelivery, error)
}

// Signature headers and the like, as receivers see them.
const (
	HeaderSignature = "X-OnAir-Signature" // t=UNIX,v1=HEX(HMAC-SHA256(secret, "t.body"))
	HeaderEventID   = "X-OnAir-Event-Id"  // the same for every attempt: receivers drop repeats by it
	HeaderAttempt   = "X-OnAir-Delivery-Attempt"
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
	// MinBackoff and MaxBackoff bound the wait between attempts, which
	// doubles from the first. They default to 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// Concurrency bounds deliveries in flight. It defaults to 4.
	Concurrency int
	// UserAgent defaults to "OnAirStudio-Webhooks".
	UserAgent string
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// private
	//
	client   *http.Client
	mu       sync.Mutex
	hooks    map[string]livestream.Webhook
	inflight map[string]bool // "webhook stream" pairs with a delivery under way
	// pending mirrors the outbox in the store, oldest first (under mu): the
	// worker scans it without reading the store.
	pending  []livestream.OutboxItem
	wake     chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	counts   [3]atomic.Uint64 // delivered, failed, abandoned
	enqueued atomic.Uint64
	// queued are items Sink took and Flush has not stored yet (under mu);
	// flushMu orders the flushes.
	queued  []livestream.OutboxItem
	flushMu sync.Mutex
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
		Timeout: d.Timeout,
		// A redirect is not followed: the receiver must answer itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	list, err := d.Store.LoadWebhooks()
	if err != nil {
		return fmt.Errorf("loading webhooks: %w", err)
	}
	d.hooks = make(map[string]livestream.Webhook, len(list))
	for _, w := range list {
		d.hooks[w.ID] = w
	}
	d.inflight = map[string]bool{}
	if d.pending, err = d.Store.LoadOutbox(); err != nil {
		return fmt.Errorf("reading the webhook outbox: %w", err)
	}
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
}

// Prepare returns ev's outbox items, one per webhook that wants it (none
// without webhooks); the body is encoded once.
func (d *Dispatcher) Prepare(ev livestream.Event) []livestream.OutboxItem {
	d.mu.Lock()
	var to []string
	for _, w := range d.hooks {
		if w.Wants(ev.Type) {
			to = append(to, w.ID)
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

// Queue keeps items for the next Flush or Store (the engine calls it in
// event order, under its lock).
func (d *Dispatcher) Queue(items []livestream.OutboxItem) {
	d.mu.Lock()
	d.queued = append(d.queued, items...)
	d.mu.Unlock()
}

// StoreWith runs write (a change's own transaction) with everything queued
// followed by items, so that the outbox keeps the events' order; then the
// worker has them.
func (d *Dispatcher) StoreWith(items []livestream.OutboxItem, write func(all []livestream.OutboxItem) error) error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	d.mu.Lock()
	queued := d.queued
	d.queued = nil
	d.mu.Unlock()
	all := append(slices.Clip(queued), items...) // a new array: queued stays as it was
	if len(all) == 0 {
		return nil // an earlier flush stored them
	}
	if err := write(all); err != nil {
		d.mu.Lock()
		d.queued = append(queued, d.queued...) // not stored: the next flush tries them
		d.mu.Unlock()
		return err
	}
	d.stored(all)
	return nil
}

// stored hands items now in the store to the worker.
func (d *Dispatcher) stored(items []livestream.OutboxItem) {
	d.mu.Lock()
	d.pending = append(d.pending, items...)
	d.mu.Unlock()
	d.enqueued.Add(uint64(len(items)))
	d.poke()
}

// Flush stores what was queued, in one transaction, and returns once it
// is durable (the engine calls it before answering). Flushes that overlap
// share one write: a caller whose items an earlier flush took returns as
// soon as that one is done.
func (d *Dispatcher) Flush() {
	d.mu.Lock()
	empty := len(d.queued) == 0
	d.mu.Unlock()
	if empty {
		return
	}
	if err := d.StoreWith(nil, d.Store.Enqueue); err != nil {
		d.Logger.Error("storing events for webhooks", "error", err)
	}
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run delivers, for each webhook and stream, the oldest waiting event
// whose time has come; it sleeps until the next one is due or an event
// arrives.
func (d *Dispatcher) run(ctx context.Context) {
	for {
		next := d.pick(ctx)
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// job is one delivery to start.
type job struct {
	hook livestream.Webhook
	it   livestream.OutboxItem
	pair string
}

// pick starts the deliveries that are due, as many as there are free
// slots, and returns how long until the next one is. With every slot
// taken (receivers that do not answer) it does not even scan.
func (d *Dispatcher) pick(ctx context.Context) time.Duration {
	next := d.MaxBackoff
	var jobs []job
	d.mu.Lock()
	free := d.Concurrency - len(d.inflight)
	if free > 0 {
		now := time.Now()
		seen := map[string]bool{}
		for _, it := range d.pending {
			pair := it.WebhookID + " " + it.StreamID
			if seen[pair] {
				continue // in order: the older one of this stream goes first
			}
			seen[pair] = true
			hook, ok := d.hooks[it.WebhookID]
			if !ok || d.inflight[pair] {
				continue
			}
			if wait := it.NextAt.Sub(now); wait > 0 {
				next = min(next, wait)
				continue
			}
			d.inflight[pair] = true
			jobs = append(jobs, job{hook, it, pair})
			if len(jobs) == free {
				break
			}
		}
	}
	d.mu.Unlock()
	for _, j := range jobs {
		d.wg.Go(func() {
			d.deliver(ctx, j.hook, j.it)
			d.mu.Lock()
			delete(d.inflight, j.pair)
			d.mu.Unlock()
			d.poke()
		})
	}
	return next
}

// deliver makes one attempt and records it.
func (d *Dispatcher) deliver(ctx context.Context, w livestream.Webhook, it livestream.OutboxItem) {
	it.Attempts++
	start := time.Now()
	code, err := d.post(ctx, w, it)
	if ctx.Err() != nil {
		return // stopping: the item stays as it was
	}
	rec := livestream.WebhookDelivery{WebhookID: w.ID, EventID: it.EventID, Type: it.Type, Attempt: it.Attempts,
		At: start, StatusCode: code, Took: time.Since(start), Outcome: livestream.DeliveryDelivered}
	switch {
	case err == nil:
	case time.Since(it.CreatedAt) >= d.MaxAge:
		rec.Outcome, rec.Error = livestream.DeliveryAbandoned, err.Error()
		d.Logger.Warn("webhook delivery abandoned", "webhook", w.ID, "event", it.EventID, "type", it.Type, "attempts", it.Attempts, "error", err)
	default:
		rec.Outcome, rec.Error = livestream.DeliveryFailed, err.Error()
		it.NextAt = time.Now().Add(d.backoff(it.Attempts))
		d.Logger.Info("webhook delivery failed, trying again", "webhook", w.ID, "event", it.EventID, "attempt", it.Attempts, "next_in", time.Until(it.NextAt).Round(time.Millisecond), "error", err)
	}
	if err := d.Store.Delivered(it, rec); err != nil {
		d.Logger.Error("recording a webhook delivery", "webhook", w.ID, "error", err)
	}
	switch rec.Outcome { // counted once recorded
	case livestream.DeliveryDelivered:
		d.counts[0].Add(1)
	case livestream.DeliveryFailed:
		d.counts[1].Add(1)
	default:
		d.counts[2].Add(1)
	}
	d.mu.Lock()
	for i := range d.pending {
		if d.pending[i].Seq == it.Seq {
			if rec.Outcome == livestream.DeliveryFailed {
				d.pending[i] = it
			} else {
				d.pending = slices.Delete(d.pending, i, i+1)
			}
			break
		}
	}
	d.mu.Unlock()
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled
// each time, at most MaxBackoff.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.MinBackoff
	for i := 1; i < n && b < d.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.MaxBackoff)
}

// post sends one attempt; any answer but 2xx is a failure.
func (d *Dispatcher) post(ctx context.Context, w livestream.Webhook, it livestream.OutboxItem) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(it.Body))
	if err != nil {
		return 0, fmt.Errorf("the webhook's URL: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", d.UserAgent)
	h.Set(HeaderEventID, strconv.FormatUint(it.EventID, 10))
	h.Set("Idempotency-Key", strconv.FormatUint(it.EventID, 10))
	h.Set(HeaderAttempt, strconv.Itoa(it.Attempts))
	h.Set(HeaderSignature, Sign(w.Secret, time.Now(), it.Body))
	resp, err := d.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, fmt.Errorf("posting to %s: %w", w.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s answered %s", w.URL, resp.Status)
	}
	return resp.StatusCode, nil
}

// Sign is the signature header of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, as a receiver does; the
// time must be within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		switch {
		case len(part) > 2 && part[:2] == "t=":
			ts = part[2:]
		case len(part) > 3 && part[:3] == "v1=":
			sig = part[3:]
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
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
func newSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "wh_" + hex.EncodeToString(b[:])
}
