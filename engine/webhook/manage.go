package webhook

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Params create or change a webhook.
type Params = livestream.WebhookParams

func invalid(field, msg string) error {
	return &livestream.ValidationError{Field: field, Message: msg}
}

// checkURL accepts http(s) URLs with a host; loopback is allowed (a
// receiver on the same computer is the common case for a desktop studio).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("url", "must be an http:// or https:// URL with a host, got "+fmt.Sprintf("%q", s))
	}
	if u.Fragment != "" || len(s) > 2048 {
		return invalid("url", "must have no fragment and at most 2048 characters")
	}
	return nil
}

func checkEvents(ev []string) error {
	for _, e := range ev {
		if !slices.Contains(livestream.EventTypes, e) {
			return invalid("events", fmt.Sprintf("unknown event type %q; known: %s", e, strings.Join(livestream.EventTypes, ", ")))
		}
	}
	return nil
}

// Create registers a webhook; the answer holds its secret, which is not
// shown again.
func (d *Dispatcher) Create(p Params) (livestream.Webhook, error) {
	if p.URL == nil {
		return livestream.Webhook{}, invalid("url", "is required")
	}
	if err := checkURL(*p.URL); err != nil {
		return livestream.Webhook{}, err
	}
	w := livestream.Webhook{ID: newID(), URL: *p.URL, Secret: newSecret(), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if p.Events != nil {
		if err := checkEvents(*p.Events); err != nil {
			return livestream.Webhook{}, err
		}
		w.Events = slices.Clone(*p.Events)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.Store.PutWebhook(w); err != nil {
		return livestream.Webhook{}, fmt.Errorf("storing the webhook: %w", err)
	}
	d.hooks[w.ID] = w
	d.Logger.Info("webhook added", "webhook", w.ID, "url", w.URL)
	return w, nil
}

// List returns the webhooks, oldest first, without their secrets.
func (d *Dispatcher) List() []livestream.Webhook {
	d.mu.Lock()
	out := make([]livestream.Webhook, 0, len(d.hooks))
	for _, w := range d.hooks {
		w.Secret = ""
		out = append(out, w)
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b livestream.Webhook) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Get returns a webhook (without its secret) and its latest deliveries,
// newest first.
func (d *Dispatcher) Get(id string) (livestream.Webhook, []livestream.WebhookDelivery, error) {
	d.mu.Lock()
	w, ok := d.hooks[id]
	d.mu.Unlock()
	if !ok {
		return livestream.Webhook{}, nil, fmt.Errorf("webhook %q: %w", id, livestream.ErrNotFound)
	}
	w.Secret = ""
	ds, err := d.Store.Deliveries(id, 20)
	if err != nil {
		return w, nil, fmt.Errorf("reading deliveries of %s: %w", id, err)
	}
	return w, ds, nil
}

// Update changes a webhook's URL or event filter.
func (d *Dispatcher) Update(id string, p Params) (livestream.Webhook, error) {
	if p.URL == nil && p.Events == nil {
		return livestream.Webhook{}, invalid("body", "names nothing to change (url, events)")
	}
	if p.URL != nil {
		if err := checkURL(*p.URL); err != nil {
			return livestream.Webhook{}, err
		}
	}
	if p.Events != nil {
		if err := checkEvents(*p.Events); err != nil {
			return livestream.Webhook{}, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.hooks[id]
	if !ok {
		return livestream.Webhook{}, fmt.Errorf("webhook %q: %w", id, livestream.ErrNotFound)
	}
	if p.URL != nil {
		w.URL = *p.URL
	}
	if p.Events != nil {
		w.Events = slices.Clone(*p.Events)
	}
	if err := d.Store.PutWebhook(w); err != nil {
		return livestream.Webhook{}, fmt.Errorf("storing the webhook: %w", err)
	}
	d.hooks[id] = w
	w.Secret = ""
	return w, nil
}

// Delete removes a webhook and what waits for it.
func (d *Dispatcher) Delete(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.hooks[id]; !ok {
		return fmt.Errorf("webhook %q: %w", id, livestream.ErrNotFound)
	}
	if err := d.Store.DeleteWebhook(id); err != nil {
		return fmt.Errorf("deleting webhook %s: %w", id, err)
	}
	delete(d.hooks, id)
	d.pending = slices.DeleteFunc(d.pending, func(it livestream.OutboxItem) bool { return it.WebhookID == id })
	d.Logger.Info("webhook removed", "webhook", id)
	return nil
}
