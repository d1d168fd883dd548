package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// Webhooks are the URLs the studio posts its events to.
type Webhooks interface {
	List() []livestream.Webhook
	Get(id string) (livestream.Webhook, []livestream.WebhookDelivery, error)
	Create(livestream.WebhookParams) (livestream.Webhook, error)
	Delete(id string) error
}

// webhooksCard is the Settings section of webhooks: each with its latest
// delivery, a remove button, and a field to add one (its signing secret is
// shown once).
type webhooksCard struct {
	d    deps
	list *fyne.Container
	url  *field
	add  *widget.Button
	card *widget.Card
}

func newWebhooksCard(d deps) *webhooksCard {
	c := &webhooksCard{d: d, list: container.NewVBox()}
	c.url = newField("URL", "https://example.com/onair-events")
	c.add = widget.NewButtonWithIcon("Add webhook", theme.ContentAddIcon(), c.create)
	note := widget.NewLabel("Every event (live_stream.active, output.errored, asset.ready, …) is posted to these URLs, signed with the webhook's secret; what cannot be delivered is kept (up to 1,000 events each) and tried again for a day; a receiver that is down delays only its own.")
	note.Wrapping = fyne.TextWrapWord
	c.card = widget.NewCard("Webhooks", "Events posted to other programs",
		container.NewVBox(note, c.list, container.NewBorder(nil, nil, nil, c.add, c.url.entry), c.url.err))
	return c
}

// webhookRow is what the card shows of one webhook.
type webhookRow struct {
	hook livestream.Webhook
	last *livestream.WebhookDelivery
}

// load reads the webhooks and their latest deliveries off the UI thread.
func (c *webhooksCard) load() {
	hooks := c.d.studio.Webhooks()
	if hooks == nil {
		c.card.Hide()
		return
	}
	var rows []webhookRow
	c.d.act.run("Reading the webhooks", func() error {
		for _, h := range hooks.List() {
			r := webhookRow{hook: h}
			if _, ds, err := hooks.Get(h.ID); err == nil && len(ds) > 0 {
				r.last = &ds[0]
			}
			rows = append(rows, r)
		}
		return nil
	}, func(error) { c.show(rows) })
}

// show lists rows (UI thread).
func (c *webhooksCard) show(rows []webhookRow) {
	c.list.Objects = nil
	if len(rows) == 0 {
		c.list.Add(widget.NewLabel("No webhooks yet."))
	}
	for _, r := range rows {
		id, u := r.hook.ID, r.hook.URL
		text := widget.NewLabel(u + "\n" + webhookSummary(r, time.Now()))
		text.Wrapping = fyne.TextWrapBreak
		remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
			c.d.act.confirm("Remove this webhook?", u+"\n\nEvents not yet delivered to it are dropped.", func(ok bool) {
				if ok {
					c.d.act.run("Removing the webhook", func() error { return c.d.studio.Webhooks().Delete(id) }, func(err error) {
						if err != nil {
							c.d.act.showError("Removing the webhook", err)
						}
						c.load()
					})
				}
			})
		})
		c.list.Add(container.NewBorder(nil, nil, nil, remove, text))
	}
	c.list.Refresh()
}

// webhookSummary says which events go, how the latest delivery went and,
// when there is any, what waits: the queue, what a full queue dropped, and
// when a failing webhook is tried next.
func webhookSummary(r webhookRow, now time.Time) string {
	s := lastDelivery(r, now)
	h := r.hook
	if h.Queued > 0 {
		s += fmt.Sprintf(" · %d waiting", h.Queued)
	}
	if h.Dropped > 0 {
		s += fmt.Sprintf(" · %d dropped (queue full)", h.Dropped)
	}
	if !h.FailingSince.IsZero() {
		s += fmt.Sprintf(" · failing for %s, next try in %s", now.Sub(h.FailingSince).Round(time.Second), max(h.RetryAt.Sub(now), 0).Round(time.Second))
	}
	return s
}

// lastDelivery says which events go and how the latest delivery went.
func lastDelivery(r webhookRow, now time.Time) string {
	events := "all events"
	if len(r.hook.Events) > 0 {
		events = strings.Join(r.hook.Events, ", ")
	}
	if r.last == nil {
		return events + " · nothing sent yet"
	}
	d := r.last
	ago := now.Sub(d.At).Round(time.Second)
	switch d.Outcome {
	case livestream.DeliveryDelivered:
		return fmt.Sprintf("%s · last: %s delivered (%d) %s ago", events, d.Type, d.StatusCode, ago)
	case livestream.DeliveryAbandoned:
		return fmt.Sprintf("%s · last: %s given up after %d tries: %s", events, d.Type, d.Attempt, d.Error)
	}
	return fmt.Sprintf("%s · last: %s failed (try %d): %s", events, d.Type, d.Attempt, d.Error)
}

func (c *webhooksCard) create() {
	u := strings.TrimSpace(c.url.entry.Text)
	c.url.err.set("")
	var made livestream.Webhook
	c.add.Disable()
	c.d.act.run("Adding the webhook", func() error {
		var err error
		made, err = c.d.studio.Webhooks().Create(livestream.WebhookParams{URL: &u})
		return err
	}, func(err error) {
		c.add.Enable()
		if err != nil {
			c.url.err.set(plain(err))
			return
		}
		c.url.entry.SetText("")
		c.load()
		secret := newCopyRow(func() fyne.Clipboard { return c.d.app.Clipboard() }, func() string { return made.Secret })
		c.d.act.show(dialog.NewCustom("Webhook added", "Done", container.NewVBox(
			widget.NewLabel("Its signing secret, shown only now: the receiver checks\nX-OnAir-Signature (t=…,v1=HMAC-SHA256 of \"t.body\") with it."),
			secret.root), c.d.win))
	})
}
