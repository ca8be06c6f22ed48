package examples

// Resilience tests (SECURITY.md IN-2, IN-3, AV-1, AV-2, AV-5, DUR-4 and the
// fault table rows F2, F3, F5, F7): each one starts the generated clinic
// backend as a real process against its own fresh database and drives it
// over raw HTTP while it injects the fault: oversized and hostile bodies, a
// row lock that keeps requests waiting, SIGTERM with requests in flight,
// and the database terminating the backend's sessions. The backend binary
// is built once for all of them (sharedBinary).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/server"
)

// sharedBuild is the clinic backend built once per test binary.
var sharedBuild struct {
	once sync.Once
	bin  string
}

// sharedBinary returns the path of the clinic backend binary, built once
// per test binary. `go test` runs the test binary from its own work
// directory and removes that directory afterwards, so the build goes next to
// the test binary and needs no cleanup. A test binary run from anywhere else
// (go test -c) builds per test, under that test's temporary directory.
func sharedBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil || !strings.Contains(exe, "go-build") {
		return buildExample(t, "clinic").bin
	}
	sharedBuild.once.Do(func() {
		dir, err := os.MkdirTemp(filepath.Dir(exe), "clinic-")
		if err != nil {
			t.Fatal(err)
		}
		writeTree(t, dir, generate(t, "clinic", dir).Backend)
		bin := filepath.Join(dir, "clinic")
		goCmd(t, dir, nil, "build", "-o", bin, ".")
		sharedBuild.bin = bin
	})
	if sharedBuild.bin == "" {
		t.Fatal("building the clinic backend failed (see the first test that built it)")
	}
	return sharedBuild.bin
}

// Slack added to every bound on how long the backend may take to answer:
// the machine runs several backends and PostgreSQL at once.
const slack = 1500 * time.Millisecond

// measurementJSON is a valid measurement create body.
const measurementJSON = `{"systolic":128,"diastolic":84,"pulse":64,"taken_at":"2026-11-27T08:30:00Z","arm":"left","position":"sitting","device":{"serial":"BP-0042","model":"Omron M7"},"tags":["morning"]}`

// reply is one HTTP exchange as the tests see it.
type reply struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
	err    error // transport error: no response
}

func (r reply) String() string {
	if r.err != nil {
		return fmt.Sprintf("no response after %v: %v", r.took.Round(time.Millisecond), r.err)
	}
	return fmt.Sprintf("%d after %v: %s", r.status, r.took.Round(time.Millisecond), bytes.TrimSpace(r.body))
}

// apiClient talks to one backend with one user's token; safe for
// concurrent use, and every request has a hard client-side timeout so a
// hanging backend fails the test instead of stalling it.
type apiClient struct {
	url   string
	token string
	hc    *http.Client
}

func newAPIClient(t *testing.T, url string) *apiClient {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := &apiClient{url: url, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	c.token = registerAndLogin(t, url)
	return c
}

// do sends one request. hdr are header name/value pairs; "Authorization"
// defaults to the client's bearer token (pass "" to send none).
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body []byte, hdr ...string) reply {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return reply{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	began := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(began)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: data, took: time.Since(began), err: err}
}

// stop closes the client's idle connections, then stops b. (A connection
// the transport dialed for a request that was cancelled before it was sent
// sits idle in the client's pool; the server counts it as a new connection
// and http.Server.Shutdown waits up to 5 s for its first request.)
func (c *apiClient) stop(t *testing.T, b *backend) {
	t.Helper()
	c.hc.Transport.(*http.Transport).CloseIdleConnections()
	b.stop(t)
}

func (c *apiClient) createMeasurement(t *testing.T) string {
	t.Helper()
	r := c.do(t.Context(), http.MethodPost, "/data/measurement/documents", "application/json", []byte(measurementJSON))
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("create measurement: %v", r)
	}
	var doc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.ID == "" {
		t.Fatalf("create measurement: no id in %s", r.body)
	}
	return doc.ID
}

func (c *apiClient) patchNote(ctx context.Context, id, note string) reply {
	body, _ := json.Marshal(map[string]string{"note": note})
	return c.do(ctx, http.MethodPatch, "/data/measurement/documents/"+id, "application/json", body)
}

func (c *apiClient) get(ctx context.Context, path string) reply {
	return c.do(ctx, http.MethodGet, path, "", nil)
}

// errorShape checks that r is the JSON Error shape with the given status
// and code (code "" accepts any), a message and a request id that matches
// the X-Request-ID header.
func errorShape(r reply, status int, code string) error {
	if r.err != nil {
		return fmt.Errorf("want %d %s, got %v", status, code, r)
	}
	if r.status != status {
		return fmt.Errorf("want %d %s, got %v", status, code, r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("want a JSON error, got Content-Type %q: %v", ct, r)
	}
	var e struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		return fmt.Errorf("error body is not JSON (%v): %v", err, r)
	}
	if e.Code == "" || e.Message == "" || e.RequestID == "" {
		return fmt.Errorf("error body lacks code, message or request_id: %v", r)
	}
	if code != "" && e.Code != code {
		return fmt.Errorf("want code %s, got %v", code, r)
	}
	if h := r.header.Get("X-Request-ID"); h != e.RequestID {
		return fmt.Errorf("request_id %q differs from X-Request-ID %q", e.RequestID, h)
	}
	if status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
		return fmt.Errorf("503 without Retry-After: %v", r)
	}
	return nil
}

// eventually polls cond every 20 ms until it returns nil or timeout passes,
// and fails the test with cond's last error then.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procStatus reads a field such as VmRSS or VmHWM of /proc/<pid>/status,
// in kB.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("/proc/%d/status %s: %v", pid, field, err)
			}
			return kb
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// pgConn opens a connection of the test's own (not the backend's) to dbURL.
func pgConn(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "exhgen-resilience-test"
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// lockRow takes a row lock on a measurement from a connection of its own,
// so the backend's PATCHes of it wait; release (also run at cleanup) ends
// the lock.
func lockRow(t *testing.T, dbURL, id string) (release func()) {
	t.Helper()
	conn := pgConn(t, dbURL)
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := tx.QueryRow(t.Context(), `SELECT id::text FROM data_measurement WHERE id = $1 FOR UPDATE`, id).Scan(&got); err != nil {
		t.Fatalf("lock measurement %s: %v", id, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(context.Background()) }) }
	t.Cleanup(release)
	return release
}

// lockWaiters counts the backend's sessions waiting for a lock.
func lockWaiters(t *testing.T, mon *pgx.Conn) int {
	t.Helper()
	var n int
	err := mon.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'exhgen' AND wait_event_type = 'Lock'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitForLockWaiters polls until exactly n backend sessions wait for a lock.
func waitForLockWaiters(t *testing.T, mon *pgx.Conn, n int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%d backend sessions waiting for the row lock", n), func() error {
		if got := lockWaiters(t, mon); got != n {
			return fmt.Errorf("%d waiting", got)
		}
		return nil
	})
}

// goroutines reads the backend's goroutine count from its pprof server.
func goroutines(debugURL string) (int, error) {
	resp, err := http.Get(debugURL + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile header %q", line)
	}
	return strconv.Atoi(n)
}

// rawExchange is one request written by hand to a fresh connection.
type rawExchange struct {
	resp    *http.Response
	body    []byte        // the response body
	took    time.Duration // until the response body was read
	written int64         // request body bytes the connection had accepted by then
	closed  error         // why reading after the response ended: nil if the server left the connection open
}

// rawRequest writes a request head to a fresh connection and then body from
// a goroutine (nil: no body at all), reads the response, and then checks for
// up to 5 s whether the server closes the connection.
func rawRequest(t *testing.T, baseURL, head string, body io.Reader) rawExchange {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(baseURL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	began := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	if body != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				k, rerr := body.Read(buf)
				if k > 0 {
					w, werr := conn.Write(buf[:k])
					written.Add(int64(w))
					if werr != nil {
						return
					}
				}
				if rerr != nil {
					return
				}
			}
		}()
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	x := rawExchange{resp: resp}
	x.body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	x.took, x.written = time.Since(began), written.Load()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("unexpected bytes after the response")
	} else if !isTimeout(err) {
		x.closed = err
	}
	return x
}

func (x rawExchange) reply() reply {
	return reply{status: x.resp.StatusCode, header: x.resp.Header, body: x.body, took: x.took}
}

// chunked streams the JSON-ish prefix "[1,1,1,…" in HTTP/1.1 chunked
// encoding, size bytes of payload in all, without holding it in memory.
type chunked struct {
	left  int64
	first bool
	done  bool
	buf   bytes.Buffer
}

func newChunked(size int64) *chunked { return &chunked{left: size, first: true} }

func (c *chunked) Read(p []byte) (int, error) {
	if c.buf.Len() == 0 {
		switch {
		case c.done:
			return 0, io.EOF
		case c.left == 0:
			c.buf.WriteString("0\r\n\r\n")
			c.done = true
		default:
			k := min(c.left, 16<<10)
			payload := bytes.Repeat([]byte("1,"), int(k/2))
			if c.first {
				payload[0] = '['
				c.first = false
			}
			fmt.Fprintf(&c.buf, "%x\r\n%s\r\n", len(payload), payload)
			c.left -= int64(len(payload))
		}
	}
	return c.buf.Read(p)
}

// TestIN3_Limits (F7, IN-2, IN-3): oversized, deeply nested and malformed
// bodies get a 4xx in the JSON Error shape, never a 500, and cost the
// backend little memory.
func TestIN3_Limits(t *testing.T) {
	t.Parallel()
	bin := sharedBinary(t)
	b := start(t, bin, dbtest.URL(t), freePort(t))
	c := newAPIClient(t, b.url)
	pid := b.cmd.Process.Pid
	c.createMeasurement(t) // warm every path a create takes
	rssBefore, hwmBefore := procStatus(t, pid, "VmRSS"), procStatus(t, pid, "VmHWM")
	host := strings.TrimPrefix(b.url, "http://")
	const create = "/data/measurement/documents"

	t.Run("10MB body with Content-Length is refused before it is sent", func(t *testing.T) {
		head := "POST " + create + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + c.token +
			"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(10<<20) + "\r\n\r\n"
		// No body byte is ever sent: the answer can only come from the
		// Content-Length.
		x := rawRequest(t, b.url, head, nil)
		if err := errorShape(x.reply(), http.StatusRequestEntityTooLarge, "payload_too_large"); err != nil {
			t.Fatal(err)
		}
		if !x.resp.Close || x.closed == nil {
			t.Errorf("after a 413 for an unread body the server should close the connection (Connection: close), not wait for the body; closed: %v, headers %v", x.closed, x.resp.Header)
		}
	})

	t.Run("10MB chunked body stops being read at the limit", func(t *testing.T) {
		head := "POST " + create + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + c.token +
			"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
		x := rawRequest(t, b.url, head, newChunked(10<<20))
		if err := errorShape(x.reply(), http.StatusRequestEntityTooLarge, "payload_too_large"); err != nil {
			t.Fatal(err)
		}
		// Had the server read the whole body it could keep the connection;
		// it stops at the limit and closes it instead.
		if !x.resp.Close || x.closed == nil {
			t.Errorf("after a 413 at the body limit the server should close the connection, not read on; closed: %v, headers %v", x.closed, x.resp.Header)
		}
		t.Logf("413 after %v; the client had written %d KiB of 10240 by then (the server reads 1024, socket buffers hold the rest); connection then closed: %v",
			x.took.Round(time.Millisecond), x.written>>10, x.closed)
	})

	type tc struct {
		name, path, ctype string
		body              []byte
		auth              bool
		status            int
		code              string
	}
	deep := `{"systolic":120,"diastolic":80,"taken_at":"2026-11-27T08:30:00Z","tags":` +
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	million := append(append([]byte{'['}, bytes.Repeat([]byte("1,"), 1_000_000-1)...), '1', ']')
	// The most values a body within the default limit (1 MiB) can hold:
	// once, the strict JSON check built a value tree of every body, and 32
	// of these at once, without a token, took the backend from 36 MB to
	// 774 MB.
	const limit = 1 << 20 // EXH_MAX_BODY_BYTES by default
	ones := append(append([]byte{'['}, bytes.Repeat([]byte("1,"), (limit-3)/2)...), '1', ']')
	onesCase := fmt.Sprintf("%d-byte array of %d values, without a token", len(ones), (len(ones)-1)/2)
	cases := []tc{
		{"10,000 deep nesting", create, "application/json", []byte(deep), true, 400, ""},
		{"1,000,000-item array", create, "application/json", million, true, 413, "payload_too_large"},
		{`\u0000 in a string`, create, "application/json",
			[]byte(`{"systolic":120,"diastolic":80,"taken_at":"2026-11-27T08:30:00Z","note":"a\u0000b"}`), true, 400, ""},
		{"duplicate keys", create, "application/json",
			[]byte(`{"systolic":120,"systolic":300,"diastolic":80,"taken_at":"2026-11-27T08:30:00Z"}`), true, 400, ""},
		{"invalid UTF-8", create, "application/json",
			[]byte("{\"systolic\":120,\"diastolic\":80,\"taken_at\":\"2026-11-27T08:30:00Z\",\"note\":\"a\xff\xfeb\"}"), true, 400, ""},
		{"trailing data", create, "application/json", []byte(measurementJSON + `{}`), true, 400, ""},
		{"text/plain on a JSON operation", create, "text/plain", []byte(measurementJSON), true, 415, "unsupported_media_type"},
		{"text/plain on /auth/register", "/auth/register", "text/plain",
			[]byte(`{"email":"plain@example.com","password":"correct horse battery staple"}`), false, 415, "unsupported_media_type"},
		{onesCase, "/auth/login", "application/json", ones, false, 400, ""},
	}
	if len(ones) > limit || len(ones) < limit-2 {
		t.Fatalf("the %d-byte body is not just within the %d-byte limit", len(ones), limit)
	}
	// Every case 8 times at once (some more), all cases at once, so a
	// per-request cost would show in RSS.
	copiesOf := map[string]int{onesCase: 32}
	var wg sync.WaitGroup
	results := make([][]reply, len(cases))
	for i, k := range cases {
		copies := copiesOf[k.name]
		if copies == 0 {
			copies = 8
		}
		results[i] = make([]reply, copies)
		for j := range copies {
			wg.Go(func() {
				hdr := []string{}
				if !k.auth {
					hdr = append(hdr, "Authorization", "")
				}
				results[i][j] = c.do(t.Context(), http.MethodPost, k.path, k.ctype, k.body, hdr...)
			})
		}
	}
	wg.Wait()
	for i, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			for _, r := range results[i] {
				if r.status == http.StatusInternalServerError {
					t.Fatalf("500: %v", r)
				}
				if err := errorShape(r, k.status, k.code); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%v", results[i][0])
		})
	}

	// Still healthy afterwards.
	c.createMeasurement(t)
	rssAfter, hwmAfter := procStatus(t, pid, "VmRSS"), procStatus(t, pid, "VmHWM")
	t.Logf("backend VmRSS %d → %d kB, VmHWM (peak) %d → %d kB", rssBefore, rssAfter, hwmBefore, hwmAfter)
	if grew := rssAfter - rssBefore; grew >= 50<<10 {
		t.Errorf("VmRSS grew by %d kB across the hostile requests, want < 50 MB", grew)
	}
	if grew := hwmAfter - rssBefore; grew >= 50<<10 {
		t.Errorf("peak RSS (VmHWM) rose %d kB above the RSS before the hostile requests, want < 50 MB", grew)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestAV1_RequestTimeout: a request that cannot finish before
// EXH_REQUEST_TIMEOUT (a PATCH waiting for a row lock) answers 503 at the
// timeout, and the cancelled statement gives its connection back (AV-3).
func TestAV1_RequestTimeout(t *testing.T) {
	t.Parallel()
	bin := sharedBinary(t)
	dbURL := dbtest.URL(t)
	const timeout = time.Second
	b := start(t, bin, dbURL, freePort(t), "EXH_REQUEST_TIMEOUT="+timeout.String())
	c := newAPIClient(t, b.url)
	id := c.createMeasurement(t)
	mon := pgConn(t, dbURL)

	// Slowloris (F6): a client trickling its request head is cut off by
	// ReadHeaderTimeout (server.DefaultReadHeaderTimeout); checked at the
	// end.
	slow := slowHeaders(t, b.url)

	release := lockRow(t, dbURL, id)
	ctx := t.Context()
	r := c.patchNote(ctx, id, "blocked")
	if err := errorShape(r, http.StatusServiceUnavailable, "service_unavailable"); err != nil {
		t.Fatal(err)
	}
	if r.took < timeout-100*time.Millisecond || r.took > timeout+slack {
		t.Errorf("503 after %v, want about EXH_REQUEST_TIMEOUT=%v", r.took, timeout)
	}
	// The statement was cancelled, not left waiting on the lock.
	waitForLockWaiters(t, mon, 0, 2*time.Second)
	// Reads do not wait for the row lock.
	if r := c.get(ctx, "/data/measurement/documents/"+id); r.status != http.StatusOK {
		t.Errorf("GET of the locked document: %v", r)
	}
	release()
	if r := c.patchNote(ctx, id, "after"); r.status != http.StatusOK {
		t.Fatalf("PATCH after the lock was released: %v", r)
	}
	if err := <-slow; err != nil {
		t.Error(err)
	}
	c.stop(t, b)
}

// slowHeaders opens a connection that sends its request head one byte every
// 500 ms and reports (on the channel) whether the server closed it within
// ReadHeaderTimeout plus slack.
func slowHeaders(t *testing.T, baseURL string) <-chan error {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(baseURL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	limit := server.DefaultReadHeaderTimeout + slack
	began := time.Now()
	_ = conn.SetDeadline(began.Add(limit))
	closed := make(chan struct{})
	go func() {
		head := "GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)
		for i := 0; i < len(head); i++ {
			select {
			case <-closed:
				return
			case <-time.After(500 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{head[i]}); err != nil {
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		defer close(closed)
		// Whatever the server sends (nothing, or a 408), it must end with
		// the connection closed.
		_, err := io.Copy(io.Discard, conn)
		took := time.Since(began)
		switch {
		case isTimeout(err):
			done <- fmt.Errorf("a connection trickling its request head was still open after %v (ReadHeaderTimeout %v)", took, server.DefaultReadHeaderTimeout)
		case took < server.DefaultReadHeaderTimeout-time.Second:
			done <- fmt.Errorf("the slow connection was closed after %v, before ReadHeaderTimeout (%v): %v", took, server.DefaultReadHeaderTimeout, err)
		default:
			done <- nil
		}
	}()
	return done
}

// TestAV2_PoolExhaustion (F3): with EXH_DB_MAX_CONNS=2 and both connections
// held by PATCHes waiting for a row lock, further requests answer 503 with
// Retry-After within the acquire timeout; probes, bad tokens and unknown
// routes are served without a connection; the goroutine count returns to
// baseline, and everything works again once the lock is released.
func TestAV2_PoolExhaustion(t *testing.T) {
	t.Parallel()
	bin := sharedBinary(t)
	dbURL := dbtest.URL(t)
	debugURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	b := start(t, bin, dbURL, freePort(t), "EXH_DB_MAX_CONNS=2", "EXH_DEBUG_ADDR="+strings.TrimPrefix(debugURL, "http://"))
	c := newAPIClient(t, b.url)
	locked := c.createMeasurement(t)
	other := c.createMeasurement(t)
	mon := pgConn(t, dbURL)
	ctx := t.Context()

	c.hc.Transport.(*http.Transport).CloseIdleConnections()
	var baseline int
	eventually(t, 5*time.Second, "reading the goroutine baseline", func() (err error) {
		baseline, err = goroutines(debugURL)
		return err
	})

	release := lockRow(t, dbURL, locked)
	// Two PATCHes take both pooled connections and wait for the lock.
	holders := make(chan reply, 2)
	for i := range 2 {
		go func() { holders <- c.patchNote(ctx, locked, fmt.Sprint("holder ", i)) }()
	}
	waitForLockWaiters(t, mon, 2, 5*time.Second)

	// Everything that needs a connection now waits for one, at most the
	// acquire timeout.
	type excess struct {
		what string
		r    reply
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var excessReplies []excess
	for i := range 4 {
		for _, req := range []struct {
			what string
			fn   func() reply
		}{
			{"PATCH locked", func() reply { return c.patchNote(ctx, locked, fmt.Sprint("excess ", i)) }},
			{"GET other", func() reply { return c.get(ctx, "/data/measurement/documents/"+other) }},
			{"LIST", func() reply { return c.get(ctx, "/data/measurement/documents") }},
		} {
			wg.Go(func() {
				r := req.fn()
				mu.Lock()
				excessReplies = append(excessReplies, excess{req.what, r})
				mu.Unlock()
			})
		}
	}

	// Meanwhile, what needs no connection is answered at once.
	for _, probe := range []struct {
		name, method, path string
		hdr                []string
		status             int
	}{
		{"livez", http.MethodGet, "/livez", nil, 200},
		{"bad JWT", http.MethodGet, "/data/measurement/documents/" + other, []string{"Authorization", "Bearer not-a-jwt"}, 401},
		{"no token", http.MethodGet, "/data/measurement/documents", []string{"Authorization", ""}, 401},
		{"unknown route", http.MethodGet, "/no/such/path", nil, 404},
		{"OPTIONS", http.MethodOptions, "/data/measurement/documents", []string{"Authorization", ""}, 0},
	} {
		for i := range 3 {
			r := c.do(ctx, probe.method, probe.path, "", nil, probe.hdr...)
			if i == 0 {
				t.Logf("%s while the pool is exhausted: %v", probe.name, r)
			}
			switch {
			case r.err != nil:
				t.Errorf("%s while the pool is exhausted: %v", probe.name, r)
			case probe.status != 0 && r.status != probe.status, r.status >= 500:
				t.Errorf("%s while the pool is exhausted: want %d, got %v", probe.name, probe.status, r)
			case r.took > 500*time.Millisecond:
				t.Errorf("%s while the pool is exhausted took %v (waited for a connection?)", probe.name, r.took)
			}
		}
	}
	wg.Wait()
	for _, e := range excessReplies {
		if err := errorShape(e.r, http.StatusServiceUnavailable, "service_unavailable"); err != nil {
			t.Errorf("%s with the pool exhausted: %v", e.what, err)
		}
		if e.r.took > db.DefaultAcquireTimeout+slack {
			t.Errorf("%s with the pool exhausted answered after %v, want within the acquire timeout %v", e.what, e.r.took, db.DefaultAcquireTimeout)
		}
	}
	t.Logf("%d excess requests, first: %v", len(excessReplies), excessReplies[0].r)

	// The holders finish normally once the lock is gone.
	release()
	for range 2 {
		if r := <-holders; r.status != http.StatusOK {
			t.Errorf("PATCH holding a connection, after the lock was released: %v", r)
		}
	}
	if r := c.patchNote(ctx, locked, "after"); r.status != http.StatusOK {
		t.Errorf("PATCH after the lock was released: %v", r)
	}
	if r := c.get(ctx, "/data/measurement/documents"); r.status != http.StatusOK {
		t.Errorf("LIST after the lock was released: %v", r)
	}
	c.hc.Transport.(*http.Transport).CloseIdleConnections()
	eventually(t, 5*time.Second, fmt.Sprintf("goroutines back to the baseline of %d", baseline), func() error {
		n, err := goroutines(debugURL)
		if err != nil {
			return err
		}
		if n > baseline+2 {
			return fmt.Errorf("%d goroutines", n)
		}
		return nil
	})
	c.stop(t, b)
}

// TestDUR4_GracefulShutdown (F5): SIGTERM with requests in flight stops
// accepting connections at once, lets the in-flight requests finish with
// their normal status, and exits 0 before EXH_SHUTDOWN_TIMEOUT.
func TestDUR4_GracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := sharedBinary(t)
	dbURL := dbtest.URL(t)
	const shutdownTimeout = 10 * time.Second
	b := start(t, bin, dbURL, freePort(t), "EXH_SHUTDOWN_TIMEOUT="+shutdownTimeout.String())
	c := newAPIClient(t, b.url)
	id := c.createMeasurement(t)
	mon := pgConn(t, dbURL)
	ctx := t.Context()

	release := lockRow(t, dbURL, id)
	const inFlight = 5
	replies := make(chan reply, inFlight)
	for i := range inFlight {
		go func() { replies <- c.patchNote(ctx, id, fmt.Sprint("in flight ", i)) }()
	}
	waitForLockWaiters(t, mon, inFlight, 5*time.Second)

	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	sent := time.Now()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(b.url, "http://")
	eventually(t, 2*time.Second, "new connections refused after SIGTERM", func() error {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return errors.New("a new connection was accepted")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return err
		}
		return nil
	})
	select {
	case err := <-exited:
		t.Fatalf("backend exited (%v) with %d requests in flight; logs:\n%s", err, inFlight, b.logs)
	default:
	}
	if n := lockWaiters(t, mon); n != inFlight {
		t.Errorf("%d in-flight requests still waiting on the lock after SIGTERM, want %d", n, inFlight)
	}

	release()
	versions := map[int64]bool{}
	for range inFlight {
		r := <-replies
		if r.status != http.StatusOK {
			t.Errorf("in-flight PATCH during shutdown: %v", r)
			continue
		}
		var doc struct {
			Version int64 `json:"version"`
		}
		_ = json.Unmarshal(r.body, &doc)
		versions[doc.Version] = true
	}
	if len(versions) != inFlight {
		t.Errorf("in-flight PATCHes produced versions %v, want %d distinct ones", versions, inFlight)
	}
	select {
	case err := <-exited:
		took := time.Since(sent)
		if err != nil {
			t.Fatalf("backend exited with %v after SIGTERM; logs:\n%s", err, b.logs)
		}
		if took >= shutdownTimeout {
			t.Errorf("backend took %v to exit, EXH_SHUTDOWN_TIMEOUT is %v", took, shutdownTimeout)
		}
		t.Logf("backend exited 0, %v after SIGTERM", took.Round(time.Millisecond))
	case <-time.After(shutdownTimeout):
		t.Fatalf("backend still running %v after SIGTERM; logs:\n%s", shutdownTimeout, b.logs)
	}
}

// TestAV5_DatabaseReconnect (F2 as far as one test database allows):
// PostgreSQL terminates every session of the backend, three times, under
// load. Requests may fail with 503 meanwhile, never with 500 or with 401 for
// a valid token; they succeed again within seconds without a restart, and
// /livez answers 200 throughout.
func TestAV5_DatabaseReconnect(t *testing.T) {
	t.Parallel()
	bin := sharedBinary(t)
	dbURL := dbtest.URL(t)
	b := start(t, bin, dbURL, freePort(t))
	c := newAPIClient(t, b.url)
	id := c.createMeasurement(t)
	mon := pgConn(t, dbURL)

	// Load: reads, lists, creates and patches from four clients, plus a
	// /livez prober, until stop.
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	var bad []string
	record := func(what string, r reply, ok int) {
		if ctx.Err() != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		counts[r.status]++
		switch {
		case r.err != nil:
			bad = append(bad, what+": "+r.String())
		case r.status == ok:
		case r.status == http.StatusServiceUnavailable:
			if err := errorShape(r, http.StatusServiceUnavailable, "service_unavailable"); err != nil {
				bad = append(bad, what+": "+err.Error())
			}
		default:
			bad = append(bad, what+": "+r.String())
		}
	}
	for i := range 4 {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				switch (i + n) % 4 {
				case 0:
					record("GET", c.get(ctx, "/data/measurement/documents/"+id), 200)
				case 1:
					record("LIST", c.get(ctx, "/data/measurement/documents?limit(5)"), 200)
				case 2:
					record("POST", c.do(ctx, http.MethodPost, "/data/measurement/documents", "application/json", []byte(measurementJSON)), 201)
				case 3:
					record("PATCH", c.patchNote(ctx, id, fmt.Sprint("load ", i, n)), 200)
				}
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			r := c.do(ctx, http.MethodGet, "/livez", "", nil, "Authorization", "")
			if ctx.Err() == nil && (r.status != http.StatusOK || r.took > 500*time.Millisecond) {
				mu.Lock()
				bad = append(bad, "livez: "+r.String())
				mu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	eventually(t, 5*time.Second, "load running", func() error {
		mu.Lock()
		defer mu.Unlock()
		if counts[200]+counts[201] < 20 {
			return fmt.Errorf("%d successes so far", counts[200]+counts[201])
		}
		return nil
	})
	for round := range 3 {
		var killed int
		err := mon.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
			  AND application_name <> 'exhgen-resilience-test'`).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		// Recovered: a fresh read, list and write all succeed.
		eventually(t, 10*time.Second, fmt.Sprintf("round %d: requests succeed again after %d sessions were terminated", round, killed), func() error {
			for _, r := range []reply{
				c.get(t.Context(), "/data/measurement/documents/"+id),
				c.get(t.Context(), "/data/measurement/documents?limit(1)"),
				c.patchNote(t.Context(), id, fmt.Sprint("round ", round)),
			} {
				if r.status != http.StatusOK {
					return errors.New(r.String())
				}
			}
			return nil
		})
		t.Logf("round %d: %d sessions terminated, recovered after %v", round, killed, time.Since(began).Round(time.Millisecond))
	}

	// An outage: the database refuses new sessions and the backend's are
	// terminated. Requests answer 503 within the acquire timeout, /readyz
	// 503, /livez 200; once the database accepts sessions again, the
	// backend recovers by itself.
	// (A database cannot be closed from a session of its own.)
	dbName := mon.Config().Database
	admin := pgConn(t, strings.Replace(dbURL, "/"+dbName, "/postgres", 1))
	if got := admin.Config().Database; got != "postgres" {
		t.Fatalf("admin connection is to %q, not postgres", got)
	}
	allow := func(ok bool) {
		if _, err := admin.Exec(context.Background(), fmt.Sprintf(`ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t`,
			pgx.Identifier{dbName}.Sanitize(), ok)); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'exhgen'`, dbName); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "/readyz 503 while the database refuses sessions", func() error {
		r := c.get(t.Context(), "/readyz")
		return errorShape(r, http.StatusServiceUnavailable, "service_unavailable")
	})
	for _, path := range []string{"/data/measurement/documents/" + id, "/users/me"} {
		r := c.get(t.Context(), path)
		if err := errorShape(r, http.StatusServiceUnavailable, "service_unavailable"); err != nil {
			t.Errorf("GET %s with a valid token during the outage: %v", path, err)
		}
		t.Logf("GET %s during the outage: %v", path, r)
		if r.took > db.DefaultAcquireTimeout+slack {
			t.Errorf("GET %s during the outage answered after %v, want within the acquire timeout %v", path, r.took, db.DefaultAcquireTimeout)
		}
	}
	allow(true)
	began := time.Now()
	eventually(t, 10*time.Second, "requests succeed again after the outage", func() error {
		if r := c.get(t.Context(), "/data/measurement/documents/"+id); r.status != http.StatusOK {
			return errors.New(r.String())
		}
		return nil
	})
	t.Logf("outage: recovered %v after the database accepted sessions again", time.Since(began).Round(time.Millisecond))

	stop()
	wg.Wait()
	t.Logf("statuses under load: %v", counts)
	for _, s := range bad {
		t.Error(s)
	}
	if r := c.get(t.Context(), "/readyz"); r.status != http.StatusOK {
		t.Errorf("/readyz after the reconnect: %v", r)
	}
	c.stop(t, b)
}
