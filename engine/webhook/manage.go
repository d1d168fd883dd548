package webhook

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

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
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && linkLocal(a) {
		return invalid("url", errLinkLocal.Error())
	}
	return nil
}

func checkEvents(ev []string) error {
	if len(ev) == 0 {
		return invalid("events", "names no event type; leave events out to receive every event, or name the ones to receive")
	}
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
	w := livestream.Webhook{ID: newID(), URL: *p.URL, Secret: newSecret(), CreatedAt: livestream.Now()}
	if p.Events != nil {
		if err := checkEvents(*p.Events); err != nil {
			return livestream.Webhook{}, err
		}
		w.Events = slices.Clone(*p.Events)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.hooks) >= MaxWebhooks {
		return livestream.Webhook{}, invalid("webhooks", fmt.Sprintf("the studio keeps at most %d webhooks; delete one first (one receiver can take several event types)", MaxWebhooks))
	}
	if err := d.Store.PutWebhook(w); err != nil {
		return livestream.Webhook{}, fmt.Errorf("storing the webhook: %w", err)
	}
	d.hooks[w.ID] = d.newState(w)
	d.Logger.Info("webhook added", "webhook", w.ID, "url", redact(w.URL))
	w.URL = redact(w.URL)
	return w, nil
}

// List returns the webhooks, oldest first, without their secrets.
func (d *Dispatcher) List() []livestream.Webhook {
	d.mu.Lock()
	out := make([]livestream.Webhook, 0, len(d.hooks))
	for _, h := range d.hooks {
		out = append(out, h.viewLocked())
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
	h, ok := d.hooks[id]
	var w livestream.Webhook
	if ok {
		w = h.viewLocked()
	}
	d.mu.Unlock()
	if !ok {
		return livestream.Webhook{}, nil, fmt.Errorf("webhook %q: %w", id, livestream.ErrNotFound)
	}
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
	h, ok := d.hooks[id]
	if !ok {
		return livestream.Webhook{}, fmt.Errorf("webhook %q: %w", id, livestream.ErrNotFound)
	}
	w := h.hook
	if p.URL != nil {
		w.URL = *p.URL
	}
	if p.Events != nil {
		w.Events = slices.Clone(*p.Events)
	}
	if err := d.Store.PutWebhook(w); err != nil {
		return livestream.Webhook{}, fmt.Errorf("storing the webhook: %w", err)
	}
	h.hook = w
	return h.viewLocked(), nil
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
	d.Logger.Info("webhook removed", "webhook", id)
	return nil
}

// viewLocked is the webhook as the API shows it: no secret, the URL's
// password hidden, and what waits for it.
func (h *hookState) viewLocked() livestream.Webhook {
	w := h.hook
	w.Secret = ""
	w.URL = redact(w.URL)
	w.Queued, w.Dropped = len(h.pending), h.dropped
	if h.failures > 0 {
		w.FailingSince = h.failingSince
		w.RetryAt = h.until
	}
	return w
}
