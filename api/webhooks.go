package api

import (
	"net/http"
	"strconv"

	"github.com/onair-studio/onair/engine/livestream"
)

// Webhooks are the registered webhook URLs and their deliveries.
type Webhooks interface {
	Create(livestream.WebhookParams) (livestream.Webhook, error)
	List() []livestream.Webhook
	Get(id string) (livestream.Webhook, []livestream.WebhookDelivery, error)
	Update(id string, p livestream.WebhookParams) (livestream.Webhook, error)
	Delete(id string) error
}

type webhookView struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	CreatedAt int64    `json:"created_at"`
	// Queued events wait for delivery; Dropped were taken out of the full
	// queue since the studio started; a failing webhook shows when it began
	// failing and when it is tried next.
	Queued       int    `json:"queued"`
	Dropped      uint64 `json:"dropped"`
	FailingSince *int64 `json:"failing_since,omitempty"`
	RetryAt      *int64 `json:"retry_at,omitempty"`
	// Deliveries are the latest attempts, newest first (one webhook's view).
	Deliveries []deliveryView `json:"recent_deliveries,omitempty"`
}

type deliveryView struct {
	EventID    string `json:"event_id"`
	Type       string `json:"type"`
	Attempt    int    `json:"attempt"`
	At         int64  `json:"at"`
	Outcome    string `json:"outcome"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	TookMs     int64  `json:"took_ms"`
}

func viewWebhook(w livestream.Webhook) webhookView {
	v := webhookView{ID: w.ID, URL: w.URL, Events: w.Events, Secret: w.Secret, CreatedAt: millis(w.CreatedAt),
		Queued: w.Queued, Dropped: w.Dropped}
	if !w.FailingSince.IsZero() {
		since, retry := millis(w.FailingSince), millis(w.RetryAt)
		v.FailingSince, v.RetryAt = &since, &retry
	}
	if v.Events == nil {
		v.Events = []string{}
	}
	return v
}

func (s *Server) webhooksReady(w http.ResponseWriter, r *http.Request) bool {
	if s.Webhooks == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "webhooks are not running in this studio")
		return false
	}
	return true
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var p livestream.WebhookParams
	if !s.webhooksReady(w, r) || !s.decode(w, r, &p) {
		return
	}
	hook, err := s.Webhooks.Create(p)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Location", r.URL.Path+"/"+hook.ID)
	s.reply(w, http.StatusCreated, viewWebhook(hook)) // the only answer with the secret
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	if !s.webhooksReady(w, r) {
		return
	}
	list := s.Webhooks.List()
	out := struct {
		Items []webhookView `json:"items"`
	}{Items: make([]webhookView, 0, len(list))}
	for _, h := range list {
		out.Items = append(out.Items, viewWebhook(h))
	}
	s.reply(w, http.StatusOK, out)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	if !s.webhooksReady(w, r) {
		return
	}
	hook, ds, err := s.Webhooks.Get(r.PathValue("wid"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	v := viewWebhook(hook)
	v.Deliveries = make([]deliveryView, 0, len(ds))
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, deliveryView{EventID: uitoa(d.EventID), Type: d.Type, Attempt: d.Attempt,
			At: millis(d.At), Outcome: d.Outcome, StatusCode: d.StatusCode, Error: d.Error, TookMs: d.Took.Milliseconds()})
	}
	s.reply(w, http.StatusOK, v)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var p livestream.WebhookParams
	if !s.webhooksReady(w, r) || !s.decode(w, r, &p) {
		return
	}
	hook, err := s.Webhooks.Update(r.PathValue("wid"), p)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, viewWebhook(hook))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if !s.webhooksReady(w, r) {
		return
	}
	if err := s.Webhooks.Delete(r.PathValue("wid")); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, message{Message: "webhook deleted"})
}
func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
