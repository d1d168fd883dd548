package engine

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/hls"
)

// noStore keeps nothing: the sampler's cost without the disk.
type noStore struct{}

func (noStore) LoadStreams() ([]livestream.LiveStream, error) { return nil, nil }
func (noStore) Commit([]livestream.Change) error              { return nil }

// BenchmarkSampleTick: one second's sampling of N live streams, each with
// an HLS output (its viewer count read): the engine's whole history cost
// per second, reported per stream.
func BenchmarkSampleTick(b *testing.B) {
	for _, n := range []int{16, 128} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			s := &Service{Repo: noStore{}, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", SampleEvery: time.Hour,
				Outputs: output.Factories{livestream.OutputHLS: &hls.Factory{BaseURL: "http://x", Dir: b.TempDir()}},
				Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))}
			if err := s.Start(); err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			typ := "rtmp"
			for range n {
				st, err := s.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Activate(st.ID); err != nil {
					b.Fatal(err)
				}
			}
			var scratch []*session
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				now = now.Add(time.Second)
				scratch = s.sampleAll(now, scratch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/stream")
		})
	}
}
