package webhook

import (
	"context"
	"slices"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// run delivers, for each webhook and stream, the oldest waiting event; it
// sleeps until a failing webhook's pause ends or an event arrives.
func (d *Dispatcher) run(ctx context.Context) {
	var lastDrop time.Time
	for {
		next := d.pick(ctx)
		if n := d.dropsWaiting(); n > 0 {
			// Stored in batches, at most once a second (or per 256 items),
			// so that a full queue does not add a write per event.
			if wait := time.Second - time.Since(lastDrop); n >= 256 || wait <= 0 {
				d.dropStored()
				lastDrop = time.Now()
			} else {
				next = min(next, wait)
			}
		}
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

func (d *Dispatcher) dropsWaiting() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.drops)
}

// dropStored removes from the store what full queues dropped, in one
// transaction.
func (d *Dispatcher) dropStored() {
	d.mu.Lock()
	drops := d.drops
	d.drops = nil
	d.mu.Unlock()
	if err := d.Store.DropOutbox(drops); err != nil {
		d.Logger.Error("removing dropped webhook events from the store", "items", len(drops), "error", err)
	}
}

// job is one delivery to start.
type job struct {
	h  *hookState
	it livestream.OutboxItem
}

// pick starts the deliveries that may start now, within each webhook's
// slots, and returns how long until a paused webhook may try again. A
// failing webhook tries one delivery at a time; a paused one costs nothing.
func (d *Dispatcher) pick(ctx context.Context) time.Duration {
	next := d.MaxBackoff
	now := time.Now()
	var jobs []job
	d.mu.Lock()
	for _, h := range d.hooks {
		if len(h.pending) == 0 {
			continue
		}
		if wait := h.until.Sub(now); wait > 0 {
			next = min(next, wait)
			continue
		}
		free := d.Concurrency - len(h.inflight)
		if h.failures > 0 {
			free = 1 - len(h.inflight) // probing: one at a time
		}
		for i := 0; i < len(h.pending) && free > 0; i++ {
			it := h.pending[i]
			if _, busy := h.inflight[it.StreamID]; busy {
				continue // in order: the older one of this stream goes first
			}
			h.inflight[it.StreamID] = it.Seq
			jobs = append(jobs, job{h, it})
			free--
		}
	}
	d.mu.Unlock()
	for _, j := range jobs {
		d.wg.Go(func() {
			d.deliver(ctx, j.h, j.it)
			d.poke()
		})
	}
	return next
}

// deliver makes one attempt and records it: success resumes a failing
// webhook, a failure pauses the whole webhook with a growing backoff.
func (d *Dispatcher) deliver(ctx context.Context, h *hookState, it livestream.OutboxItem) {
	d.mu.Lock()
	w := h.hook
	d.mu.Unlock()
	it.Attempts++
	start := time.Now()
	code, err := d.post(ctx, w, it)
	if ctx.Err() != nil {
		return // stopping: the item stays as it was
	}
	rec := livestream.WebhookDelivery{WebhookID: w.ID, EventID: it.EventID, Type: it.Type, Attempt: it.Attempts,
		At: start, StatusCode: code, Took: time.Since(start), Outcome: livestream.DeliveryDelivered}
	if err != nil {
		rec.Outcome, rec.Error = livestream.DeliveryFailed, err.Error()
		if time.Since(it.CreatedAt) >= d.MaxAge {
			rec.Outcome = livestream.DeliveryAbandoned
		}
	}
	if err := d.Store.Delivered(it, rec); err != nil {
		d.Logger.Error("recording a webhook delivery", "webhook", w.ID, "error", err)
	}
	d.count(rec.Outcome, 1)

	d.mu.Lock()
	defer d.mu.Unlock()
	delete(h.inflight, it.StreamID)
	i := slices.IndexFunc(h.pending, func(p livestream.OutboxItem) bool { return p.Seq == it.Seq })
	if rec.Outcome == livestream.DeliveryFailed {
		if i >= 0 {
			h.pending[i] = it
		}
	} else if i >= 0 {
		h.pending = slices.Delete(h.pending, i, i+1)
	}
	if err == nil {
		if h.failures > 0 {
			d.Logger.Info("webhook receiving again", "webhook", w.ID, "url", redact(w.URL), "failed_attempts", h.failures)
		}
		h.failures, h.until = 0, time.Time{}
		return
	}
	if h.failures == 0 {
		h.failingSince = start
	}
	h.failures++
	h.until = time.Now().Add(d.backoff(h.failures))
	expired := d.expireLocked(h)
	h.log.Add("webhook deliveries failing; the webhook is paused and tried again later", "webhook", w.ID,
		"url", redact(w.URL), "failed_in_a_row", h.failures, "next_in", time.Until(h.until).Round(time.Second),
		"queued", len(h.pending), "abandoned_now", expired, "error", err)
}

// expireLocked abandons the webhook's items older than MaxAge that are
// not being delivered, without trying them again.
func (d *Dispatcher) expireLocked(h *hookState) int {
	n := 0
	cutoff := time.Now().Add(-d.MaxAge)
	h.pending = slices.DeleteFunc(h.pending, func(it livestream.OutboxItem) bool {
		if it.CreatedAt.After(cutoff) || h.inflight[it.StreamID] == it.Seq {
			return false
		}
		d.drops = append(d.drops, it)
		n++
		return true
	})
	d.count(livestream.DeliveryAbandoned, n)
	return n
}

// count adds n deliveries of an outcome, once recorded.
func (d *Dispatcher) count(outcome string, n int) {
	switch outcome {
	case livestream.DeliveryDelivered:
		d.counts[0].Add(uint64(n))
	case livestream.DeliveryFailed:
		d.counts[1].Add(uint64(n))
	default:
		d.counts[2].Add(uint64(n))
	}
}

// backoff is the pause after the n-th failed attempt in a row:
// MinBackoff doubled each time, at most MaxBackoff.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.MinBackoff
	for i := 1; i < n && b < d.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.MaxBackoff)
}
