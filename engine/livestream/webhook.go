package livestream

import (
	"encoding/json"
	"slices"
	"time"
)

// Webhook is a URL the studio posts its events to.
type Webhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events are the event types sent; empty: all.
	Events []string `json:"events,omitempty"`
	// Secret signs the deliveries; shown once, when the webhook is made.
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`

	// What waits for the webhook, as the dispatcher sees it now (not
	// stored): undelivered events, events dropped from its full queue since
	// the studio started, and when a failing webhook began failing and is
	// tried next.
	Queued       int       `json:"-"`
	Dropped      uint64    `json:"-"`
	FailingSince time.Time `json:"-"`
	RetryAt      time.Time `json:"-"`
}

// WebhookParams create or change a webhook; nil leaves a field as it is.
type WebhookParams struct {
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
}

// Wants reports whether the webhook takes events of type t.
func (w Webhook) Wants(t string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, t)
}

// OutboxItem is one event waiting to reach one webhook; it stays in the
// store until it is delivered or given up.
type OutboxItem struct {
	Seq       uint64 `json:"seq"` // the order of the outbox; set by the store
	WebhookID string `json:"webhook_id"`
	EventID   uint64 `json:"event_id"`
	Type      string `json:"type"`
	StreamID  string `json:"live_stream_id,omitempty"`
	// Body is the event's JSON, stored as it is (not base64).
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
	Attempts  int             `json:"attempts"`
	NextAt    time.Time       `json:"next_at"`
}

// Delivery outcomes.
const (
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"    // tried again later
	DeliveryAbandoned = "abandoned" // given up after the retry period
)

// WebhookDelivery is one attempt to deliver an event.
type WebhookDelivery struct {
	WebhookID  string        `json:"webhook_id"`
	EventID    uint64        `json:"event_id"`
	Type       string        `json:"type"`
	Attempt    int           `json:"attempt"`
	At         time.Time     `json:"at"`
	Outcome    string        `json:"outcome"`
	StatusCode int           `json:"status_code,omitempty"`
	Error      string        `json:"error,omitempty"`
	Took       time.Duration `json:"took"`
}

// Change is one change of the engine's state with the outbox items of its
// event: a stream written (Put), removed (Delete), or neither (an event
// alone). A repository stores a group of changes in one transaction.
type Change struct {
	Put    *LiveStream
	Delete string
	// Outbox items are numbered by the store (Seq set in place) in the
	// order of the group.
	Outbox []OutboxItem
}

// Empty reports whether the change writes nothing.
func (c Change) Empty() bool { return c.Put == nil && c.Delete == "" && len(c.Outbox) == 0 }
