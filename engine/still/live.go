package still

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

// Bounds of what Thumbnails keeps: sizes per stream, streams in all, and
// how long a stream's pictures are kept after its key frame came (a live
// stream sends one every few seconds; an idle one's are let go).
const (
	maxSizes   = 4
	maxStreams = 256
	staleAfter = time.Minute
)

// Thumbnails makes JPEGs of live streams' newest key frames. A key frame
// is decoded once per size asked: requests that come while it is decoded
// wait for that decode, later ones get the same bytes. Per stream only the
// newest key frame's pictures are kept.
type Thumbnails struct {
	// NewDecoder makes the H.264 decoder. Required.
	NewDecoder NewDecoder

	mu      sync.Mutex
	streams map[string]*keyPictures
	decodes atomic.Uint64
}

// keyPictures are one key frame's JPEGs by width.
type keyPictures struct {
	key   *media.Unit
	sizes map[int]*thumb
}

type thumb struct {
	done chan struct{}
	jpeg []byte
	err  error
}

// Get returns the JPEG of key, the stream's newest key frame, width pixels
// wide (0: the video's size).
func (t *Thumbnails) Get(stream string, key *media.Unit, width int) ([]byte, error) {
	if key == nil {
		return nil, ErrNoPicture
	}
	if err := checkCodec(key.Tracks); err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.streams == nil || len(t.streams) >= maxStreams {
		t.streams = map[string]*keyPictures{}
	}
	t.dropStale(stream)
	kp := t.streams[stream]
	if kp == nil || kp.key != key {
		kp = &keyPictures{key: key, sizes: map[int]*thumb{}}
		t.streams[stream] = kp
	}
	th, found := kp.sizes[width]
	if !found {
		if len(kp.sizes) >= maxSizes {
			clear(kp.sizes) // requests waiting keep their own
		}
		th = &thumb{done: make(chan struct{})}
		kp.sizes[width] = th
	}
	t.mu.Unlock()
	if found {
		<-th.done
		return th.jpeg, th.err
	}
	th.jpeg, th.err = t.make(key, width)
	close(th.done)
	if th.err != nil { // not kept: the next request tries again
		t.mu.Lock()
		if kp.sizes[width] == th {
			delete(kp.sizes, width)
		}
		t.mu.Unlock()
	}
	return th.jpeg, th.err
}

// dropStale lets go of the pictures of streams whose newest key frame
// came long ago (under mu): their streams went idle.
func (t *Thumbnails) dropStale(asked string) {
	now := time.Now()
	for id, kp := range t.streams {
		if id != asked && !kp.key.Received.IsZero() && now.Sub(kp.key.Received) > staleAfter {
			delete(t.streams, id)
		}
	}
}

// Forget drops a stream's pictures (it went idle or was deleted).
func (t *Thumbnails) Forget(stream string) {
	t.mu.Lock()
	delete(t.streams, stream)
	t.mu.Unlock()
}

func (t *Thumbnails) make(key *media.Unit, width int) ([]byte, error) {
	au, err := annexB(key.Tracks.Video, key.NALUs)
	if err != nil {
		return nil, err
	}
	t.decodes.Add(1)
	img, err := decodeLast(t.NewDecoder, [][]byte{au})
	if err != nil {
		return nil, err
	}
	return encode(img, width)
}

// Decodes counts the key frames decoded.
func (t *Thumbnails) Decodes() uint64 { return t.decodes.Load() }
