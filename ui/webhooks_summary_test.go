package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// The webhooks card says what waits for a failing webhook: the queue, what
// a full queue dropped, and when it is tried next.
func TestWebhookSummaryShowsTheQueue(t *testing.T) {
	now := time.Now()
	r := webhookRow{hook: livestream.Webhook{Queued: 1000, Dropped: 9000, FailingSince: now.Add(-90 * time.Second), RetryAt: now.Add(40 * time.Second)},
		last: &livestream.WebhookDelivery{Type: "live_stream.updated", Attempt: 7, Outcome: livestream.DeliveryFailed, Error: "no answer within 10s"}}
	got := webhookSummary(r, now)
	for _, want := range []string{"1000 waiting", "9000 dropped (queue full)", "failing for 1m30s", "next try in 40s", "no answer within 10s"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if s := webhookSummary(webhookRow{}, now); strings.Contains(s, "waiting") || strings.Contains(s, "failing") {
		t.Errorf("a webhook with nothing waiting: %q", s)
	}
}
