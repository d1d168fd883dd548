package ui

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/upload/s3test"
)

// The object store from Settings against a real S3 server: a wrong field
// is shown under it and nothing is saved; a wrong secret is saved but the
// test says the service refused it; the right one connects, and a
// recording that finishes is copied, leaves this computer and shows in
// the Library as in the cloud.
func TestRecordingsInTheCloud(t *testing.T) {
	s3 := s3test.Start(t)
	s3.MakeBucket("shows")
	h := newHarness(t)
	h.tap("Settings")
	var c *storageCard
	h.ui(func() { c = h.v.settings.storage })
	fill := func(endpoint, bucket, secret string) {
		h.typeInto(c.endpoint.entry, endpoint)
		h.typeInto(c.bucket.entry, bucket)
		h.typeInto(c.accessKey.entry, s3test.AccessKey)
		h.typeInto(c.secretKey.entry, secret)
	}
	fill("s3.example.com", "shows", s3test.SecretKey)
	h.ui(func() { c.submit() })
	h.ui(func() {
		if !strings.Contains(c.endpoint.err.Text, "service's address") {
			t.Errorf("a wrong address says %q", c.endpoint.err.Text)
		}
	})
	if set, _ := h.st.LoadSettings(); set.Storage.On() {
		t.Fatal("wrong settings were saved")
	}
	fill(s3.Endpoint(), "shows", "wrong-secret")
	h.ui(func() { c.submit() })
	h.eventually("the wrong secret is named", func() bool { return h.shows("refused the access key") })
	fill(s3.Endpoint(), "shows", s3test.SecretKey)
	h.ui(func() { c.deleteLocal.SetChecked(true); c.submit() })
	h.eventually("connected", func() bool { return h.shows("Connected. Recordings go to the bucket shows.") })

	// A recording finishes: it goes to the bucket and leaves this computer.
	f, a, err := h.studio.lib.Create("stream1", "evening", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	_, _ = f.Write(data)
	f.Close()
	a.Status, a.Bytes = livestream.AssetReady, int64(len(data))
	if err := h.studio.lib.Finish(a); err != nil {
		t.Fatal(err)
	}
	h.tap("Library")
	h.eventually("the recording shows as in the cloud", func() bool { return h.shows("in the cloud") && h.shows("in the bucket shows") })
	if size, err := s3.Object("shows", a.PublicID+".mp4"); err != nil || size != int64(len(data)) {
		t.Fatalf("the bucket holds %d bytes (%v)", size, err)
	}
	u, err := h.studio.s.Recordings().URL(a.PublicID)
	if err != nil || !strings.HasPrefix(u.String(), s3.Endpoint()+"/shows/") {
		t.Fatalf("where it plays: %v %v", u, err)
	}
}
