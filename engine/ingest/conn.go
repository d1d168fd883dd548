package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	flvtag "github.com/yutopp/go-flv/tag"
	rtmp "github.com/yutopp/go-rtmp"
	rtmpmsg "github.com/yutopp/go-rtmp/message"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/netlimit"
)

// maxPending bounds the units kept while waiting for every announced track's
// sequence header; maxPendingSpan bounds their duration.
const (
	maxPending     = 600
	maxPendingSpan = 2 * time.Second
)

// connHandler serves one RTMP connection.
type connHandler struct {
	rtmp.DefaultHandler

	server *Server
	nc     net.Conn
	remote string
	log    *slog.Logger

	app       string
	key       string
	target    Target
	depack    Depacketizer
	started   bool
	wantVideo bool
	wantAudio bool
	metadata  bool
	pending   []*media.Unit // before the tracks are known
	batch     []*media.Unit // read since the last flush
	scratch   bytes.Buffer
	badUnits  int
	badWarn   *netlimit.RateLog // unreadable media at most every 5 s
	refused   bool              // closed for a codec the studio does not take

	publishTimer *time.Timer
	published    atomic.Bool
}

// publishTimeout closes a connection that did not publish in time: a
// handshake sent byte by byte, or a client that connects and waits.
func (h *connHandler) publishTimeout() {
	if h.published.Load() {
		return
	}
	h.server.refusedSlow(h.remote)
	h.nc.Close()
}

func (h *connHandler) OnConnect(_ uint32, cmd *rtmpmsg.NetConnectionConnect) error {
	h.app = strings.Trim(cmd.Command.App, "/")
	if i := strings.IndexByte(h.app, '?'); i >= 0 {
		h.app = h.app[:i]
	}
	if h.app != AppName {
		reason := fmt.Sprintf("unknown RTMP application %q: publish to rtmp://HOST:PORT/%s with the stream key as the stream name", h.app, AppName)
		h.log.Warn("publisher refused", "reason", reason)
		if h.server.OnRefused != nil {
			h.server.OnRefused(h.remote, reason)
		}
		return fmt.Errorf("refusing connection: %s", reason)
	}
	return nil
}

func (h *connHandler) OnPublish(_ *rtmp.StreamContext, _ uint32, cmd *rtmpmsg.NetStreamPublish) error {
	if h.target != nil {
		return fmt.Errorf("refusing second publish on one connection")
	}
	key := cmd.PublishingName
	if i := strings.IndexByte(key, '?'); i >= 0 {
		key = key[:i]
	}
	t, err := h.server.Authorizer.Authorize(key, h.remote, h.kick)
	if err != nil {
		h.log.Warn("publisher refused", "reason", err)
		return fmt.Errorf("refusing publisher: %w", err)
	}
	h.published.Store(true)
	h.publishTimer.Stop()
	h.key = key
	h.target = t
	h.log.Info("publisher connected")
	return nil
}

// refuseCodec disconnects a publisher whose codec the studio does not
// take, saying so once (log and event), rather than dropping every frame
// of it while the stream looks live.
func (h *connHandler) refuseCodec(err error) {
	if h.refused {
		return
	}
	h.refused = true
	h.log.Warn("publisher refused", "stream_key_suffix", keySuffix(h.key), "reason", err)
	if h.server.OnRefused != nil {
		h.server.OnRefused(h.remote, err.Error())
	}
	h.nc.Close()
}

// kick disconnects the publisher; the read loop then ends and OnClose runs.
func (h *connHandler) kick() {
	h.nc.Close()
}

func (h *connHandler) OnSetDataFrame(_ uint32, data *rtmpmsg.NetStreamSetDataFrame) error {
	var script flvtag.ScriptData
	if err := flvtag.DecodeScriptData(bytes.NewReader(data.Payload), &script); err != nil {
		h.log.Debug("ignoring undecodable metadata", "error", err)
		return nil
	}
	meta, ok := script.Objects["onMetaData"]
	if !ok || h.started {
		return nil
	}
	v, a := announced(meta["videocodecid"]), announced(meta["audiocodecid"])
	if v || a {
		h.metadata = true
		h.wantVideo, h.wantAudio = v, a
	}
	return nil
}

// announced reports whether onMetaData's codec id announces a track: some
// writers put 0 for a track they do not send (0 is no video codec, and the
// audio format 0, raw PCM, is not taken anyway).
func announced(id any) bool {
	switch id := id.(type) {
	case nil:
		return false
	case float64:
		return id != 0
	}
	return true // a FourCC as a string
}

func (h *connHandler) OnVideo(ts uint32, payload io.Reader) error {
	if h.target == nil {
		return nil
	}
	body, err := h.read(payload)
	if err != nil {
		return err
	}
	u, err := h.depack.Video(ts, body)
	h.handle(u, err)
	return nil
}

func (h *connHandler) OnAudio(ts uint32, payload io.Reader) error {
	if h.target == nil {
		return nil
	}
	body, err := h.read(payload)
	if err != nil {
		return err
	}
	u, err := h.depack.Audio(ts, body)
	h.handle(u, err)
	return nil
}

func (h *connHandler) read(payload io.Reader) ([]byte, error) {
	h.scratch.Reset()
	if _, err := h.scratch.ReadFrom(payload); err != nil {
		return nil, fmt.Errorf("reading media message: %w", err)
	}
	return h.scratch.Bytes(), nil
}

func (h *connHandler) handle(u *media.Unit, err error) {
	if errors.Is(err, errUnsupportedCodec) {
		h.refuseCodec(err)
		return
	}
	if err != nil {
		h.badUnits++
		h.badWarn.Add("dropping media the studio cannot read", "stream_key_suffix", keySuffix(h.key), "error", err, "dropped_total", h.badUnits)
		return
	}
	changed := h.depack.TakeChanged()
	if h.started && changed {
		h.flush()
		h.target.StartTracks(h.depack.Tracks())
	}
	if u == nil {
		return
	}
	u.Received = time.Now()
	if h.started {
		h.batch = append(h.batch, u)
		return
	}
	h.pending = append(h.pending, u)
	if h.ready() {
		h.started = true
		h.target.StartTracks(h.depack.Tracks())
		h.target.WriteUnits(h.pending)
		h.pending = nil
	}
}

// flush hands the units of the batch to the target.
func (h *connHandler) flush() {
	if len(h.batch) == 0 || h.target == nil {
		return
	}
	h.target.WriteUnits(h.batch)
	clear(h.batch)
	h.batch = h.batch[:0]
}

// ready reports whether every track the publisher announced has its
// parameters, or enough media arrived to stop waiting for the rest.
func (h *connHandler) ready() bool {
	t := h.depack.Tracks()
	if t.Video == nil && t.Audio == nil {
		if len(h.pending) > maxPending {
			h.pending = h.pending[1:]
		}
		return false
	}
	if h.metadata {
		if (!h.wantVideo || t.Video != nil) && (!h.wantAudio || t.Audio != nil) {
			return true
		}
	} else if t.Video != nil && t.Audio != nil {
		return true
	}
	first, last := h.pending[0], h.pending[len(h.pending)-1]
	return len(h.pending) >= maxPending || last.DTS-first.DTS >= maxPendingSpan
}

func (h *connHandler) OnClose() {
	h.publishTimer.Stop()
	if h.target != nil {
		h.flush()
		h.target.Close()
		h.log.Info("publisher disconnected", "dropped_units", h.badUnits)
	}
	h.server.forget(h.nc)
}

// keySuffix returns the last characters of a key, enough to tell keys apart
// in logs without revealing them.
func keySuffix(k string) string {
	if len(k) <= 4 {
		return "…"
	}
	return "…" + k[len(k)-4:]
}
