package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// apiOptions is the control-API scenario: readers and writers over many
// streams at once, then list pages out of a larger table.
type apiOptions struct {
	Streams     int
	Readers     int
	Writers     int
	Duration    time.Duration
	ListStreams int
	ListCalls   int
	// Webhook registers a webhook to a receiver that accepts and never
	// answers, so every write's event waits in the outbox.
	Webhook bool
}

// apiResult is what the API scenario measured, in milliseconds.
type apiResult struct {
	Streams       int     `json:"streams"`
	Readers       int     `json:"readers"`
	Writers       int     `json:"writers"`
	Seconds       float64 `json:"seconds"`
	Reads         int     `json:"reads"`
	ReadsPerSec   float64 `json:"reads_per_sec"`
	ReadP50       float64 `json:"read_ms_p50"`
	ReadP99       float64 `json:"read_ms_p99"`
	ReadMax       float64 `json:"read_ms_max"`
	Writes        int     `json:"writes"`
	WritesPerSec  float64 `json:"writes_per_sec"`
	WriteP50      float64 `json:"write_ms_p50"`
	WriteP99      float64 `json:"write_ms_p99"`
	Errors        int64   `json:"errors"`
	ListStreams   int     `json:"list_streams"`
	ListP50       float64 `json:"list10_ms_p50"`
	ListP99       float64 `json:"list10_ms_p99"`
	ListMax       float64 `json:"list10_ms_max"`
	FirstError    string  `json:"first_error,omitempty"`
	ServerRSSMB   float64 `json:"server_rss_mb"`
	CreateSeconds float64 `json:"create_seconds"`
	Webhook       bool    `json:"webhook"`
}

// apiConn is one worker's keep-alive connection to the API. Requests are
// written from prepared bytes and answers read just far enough to know
// their status and length: a load generator on the same two cores must
// cost far less than the server it measures (net/http's client cost about
// as much CPU per call as the server's answer).
type apiConn struct {
	addr string
	auth string
	c    net.Conn
	rd   *bufio.Reader
	buf  []byte
}

// do sends one request and returns its status code.
func (a *apiConn) do(method, path, body string) (int, error) {
	for attempt := 0; ; attempt++ {
		code, err := a.try(method, path, body)
		if err == nil || attempt == 1 {
			return code, err
		}
		// The server may close an idle keep-alive connection: redial once.
		a.close()
	}
}

func (a *apiConn) try(method, path, body string) (int, error) {
	if a.c == nil {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			return 0, err
		}
		a.c, a.rd = c, bufio.NewReaderSize(c, 64<<10)
	}
	a.buf = append(a.buf[:0], method...)
	a.buf = append(a.buf, ' ')
	a.buf = append(a.buf, path...)
	a.buf = append(a.buf, " HTTP/1.1\r\nHost: "...)
	a.buf = append(a.buf, a.addr...)
	a.buf = append(a.buf, "\r\nAuthorization: "...)
	a.buf = append(a.buf, a.auth...)
	if body != "" {
		a.buf = append(a.buf, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		a.buf = strconv.AppendInt(a.buf, int64(len(body)), 10)
	}
	a.buf = append(a.buf, "\r\n\r\n"...)
	a.buf = append(a.buf, body...)
	a.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := a.c.Write(a.buf); err != nil {
		return 0, err
	}
	line, err := a.rd.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	closeAfter, chunked := false, false
	for {
		h, err := a.rd.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")) && bytes.EqualFold(v, []byte("close")):
			closeAfter = true
		}
	}
	switch {
	case chunked:
		if err := a.discardChunks(); err != nil {
			return 0, err
		}
	case length < 0:
		return 0, fmt.Errorf("answer to %s %s without a length", method, path)
	default:
		if _, err := a.rd.Discard(length); err != nil {
			return 0, err
		}
	}
	if closeAfter {
		a.close()
	}
	return code, nil
}

// discardChunks reads a chunked body (older studio versions sent lists so).
func (a *apiConn) discardChunks() error {
	for {
		line, err := a.rd.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			_, err := a.rd.ReadSlice('\n') // the final CRLF (no trailers)
			return err
		}
		if _, err := a.rd.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}

func (a *apiConn) close() {
	if a.c != nil {
		a.c.Close()
		a.c, a.rd = nil, nil
	}
}

// apiStats counts a scenario's failures.
type apiStats struct {
	errs  atomic.Int64
	first atomic.Pointer[string]
}

func (st *apiStats) call(a *apiConn, method, path, body string) (time.Duration, bool) {
	start := time.Now()
	code, err := a.do(method, path, body)
	d := time.Since(start)
	if err != nil || code >= 300 {
		st.errs.Add(1)
		msg := fmt.Sprint(err)
		if err == nil {
			msg = fmt.Sprintf("%s %s: %d", method, path, code)
		}
		st.first.CompareAndSwap(nil, &msg)
		return d, false
	}
	return d, true
}

// runAPI measures the control API of a fresh server.
func runAPI(ctx context.Context, o options, ao apiOptions) (apiResult, error) {
	srv, err := startServer(ctx, o)
	if err != nil {
		return apiResult{}, err
	}
	defer srv.stop()
	r := apiResult{Streams: ao.Streams, Readers: ao.Readers, Writers: ao.Writers, ListStreams: ao.ListStreams, Webhook: ao.Webhook}
	if ao.Webhook {
		stuck, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
		if err != nil {
			return r, err
		}
		defer stuck.Close()
		body := `{"url":"http://` + stuck.Addr().String() + `/hook"}`
		if err := srv.send(http.MethodPost, "/webhooks", body, http.StatusCreated, "adding a webhook"); err != nil {
			return r, err
		}
	}
	start := time.Now()
	ids, err := createStreams(srv, ao.Streams)
	if err != nil {
		return r, err
	}
	r.CreateSeconds = time.Since(start).Seconds()
	a := &apiRun{ctx: ctx, srv: srv, ids: ids, stats: &apiStats{},
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(apiKey+":"+apiSecret))}
	a.readWrite(&r, ao)
	if err := a.lists(&r, ao); err != nil {
		return r, err
	}
	r.Errors = a.stats.errs.Load()
	if p := a.stats.first.Load(); p != nil {
		r.FirstError = *p
	}
	if rss, err := rssBytes(srv.pid()); err == nil {
		r.ServerRSSMB = float64(rss) / (1 << 20)
	}
	return r, nil
}

// apiBase is the API's path prefix.
const apiBase = "/v2/video/local"

// apiRun is one API scenario's server, streams and tallies.
type apiRun struct {
	ctx   context.Context
	srv   *server
	ids   []string
	auth  string
	stats *apiStats
}

func (a *apiRun) conn() *apiConn { return &apiConn{addr: a.srv.httpAddr, auth: a.auth} }

// readWrite runs the readers (one stream or a page of ten) and the writers
// (renaming streams) for the duration and records their latencies.
func (a *apiRun) readWrite(r *apiResult, ao apiOptions) {
	var mu sync.Mutex
	var reads, writes []time.Duration
	stop := time.Now().Add(ao.Duration)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range ao.Readers + ao.Writers {
		write := i >= ao.Readers
		seed := uint64(i)
		if write {
			seed = uint64(1000 + i - ao.Readers)
		}
		wg.Go(func() {
			mine := a.worker(seed, write, stop)
			mu.Lock()
			if write {
				writes = append(writes, mine...)
			} else {
				reads = append(reads, mine...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	r.Seconds = secs
	r.Reads, r.Writes = len(reads), len(writes)
	r.ReadsPerSec, r.WritesPerSec = float64(len(reads))/secs, float64(len(writes))/secs
	r.ReadP50, r.ReadP99, r.ReadMax = ms(quantile(reads, 0.5)), ms(quantile(reads, 0.99)), ms(quantile(reads, 1))
	r.WriteP50, r.WriteP99 = ms(quantile(writes, 0.5)), ms(quantile(writes, 0.99))
}

// worker calls the API until stop and returns the latencies of its
// successful calls.
func (a *apiRun) worker(seed uint64, write bool, stop time.Time) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 7))
	c := a.conn()
	defer c.close()
	var mine []time.Duration
	for i := 0; time.Now().Before(stop) && a.ctx.Err() == nil; i++ {
		id := a.ids[rng.IntN(len(a.ids))]
		var d time.Duration
		var ok bool
		switch {
		case write:
			d, ok = a.stats.call(c, "PATCH", apiBase+"/live_streams/"+id, fmt.Sprintf(`{"name":"renamed %d"}`, i))
		case i%2 == 0:
			d, ok = a.stats.call(c, "GET", apiBase+"/live_streams/"+id, "")
		default:
			d, ok = a.stats.call(c, "GET", apiBase+"/live_streams?max_results=10", "")
		}
		if ok {
			mine = append(mine, d)
		}
	}
	return mine
}

// lists times pages of ten out of a larger table, one call at a time.
func (a *apiRun) lists(r *apiResult, ao apiOptions) error {
	if more := ao.ListStreams - len(a.ids); more > 0 {
		if _, err := createStreams(a.srv, more); err != nil {
			return err
		}
	}
	var lists []time.Duration
	lc := a.conn()
	defer lc.close()
	for range ao.ListCalls {
		if d, ok := a.stats.call(lc, "GET", apiBase+"/live_streams?max_results=10", ""); ok {
			lists = append(lists, d)
		}
	}
	r.ListP50, r.ListP99, r.ListMax = ms(quantile(lists, 0.5)), ms(quantile(lists, 0.99)), ms(quantile(lists, 1))
	return nil
}

// createStreams makes n streams from 8 clients at once.
func createStreams(srv *server, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make(chan error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				st, err := srv.createStream(false)
				if err != nil {
					errs <- err
					return
				}
				ids[i] = st.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return ids, nil
}

func printAPI(w io.Writer, r apiResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "streams\treaders\twriters\treads/s\tread ms (p50/p99/max)\twrites/s\twrite ms (p50/p99)\terrors\tlist of 10 ms (p50/p99/max)\tof streams\t")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%.0f\t%.2f / %.2f / %.2f\t%.0f\t%.2f / %.2f\t%d\t%.3f / %.3f / %.3f\t%d\t\n",
		r.Streams, r.Readers, r.Writers, r.ReadsPerSec, r.ReadP50, r.ReadP99, r.ReadMax, r.WritesPerSec, r.WriteP50, r.WriteP99,
		r.Errors, r.ListP50, r.ListP99, r.ListMax, r.ListStreams)
	tw.Flush()
	if r.FirstError != "" {
		fmt.Fprintln(w, "first error:", r.FirstError)
	}
}
