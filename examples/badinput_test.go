package examples

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// A bad-input sweep over the whole HTTP surface of a running generated
// backend (SECURITY.md IN-2, IN-3, IN-5): every operation its own
// openapi.json lists gets a table of malformed requests, and no answer may
// be a 5xx, an error body off the documented shape, or a body that leaks
// internals; refused writes must leave every table as it was.

// sweepOp is one operation of the published OpenAPI document.
type sweepOp struct {
	method, path string
	json, form   bool           // request body media types
	schema       map[string]any // the JSON request body schema, resolved
	rqlFields    []string       // x-rql fields of a list operation
}

// sweepReq is one malformed request.
type sweepReq struct {
	what        string // for failure messages
	method, url string
	ctype       string
	body        []byte
	auth        string
	accept      string // why a 2xx is fine, if it is
	ifMatch     string
	header      map[string][]string
	want        int // the status required, if one is
}

// rqlValues are query values of every shape, to compare with each field.
var rqlValues = []string{
	"1", "-1", "1.5", "1e400", "-1e400", "99999999999999999999999", "9223372036854775807", "-9223372036854775808",
	"true", "null", "x", "string:", "", "not-a-uuid", "00000000-0000-0000-0000-000000000000",
	"2026-01-01", "2026-13-45", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "2026-01-01T00:00:00+25:00",
	"%2500", "%25FF", "%2527", "%255C", "%2525", "NaN", "Infinity", "0x10", "1_000",
}

// leaks are substrings no response body may contain (IN-5).
var leaks = regexp.MustCompile(`(?i)goroutine \d|panic|\.go:\d|runtime error|SQLSTATE|pgx|pgconn|syntax error at|violates|duplicate key|relation "|column "|invalid input syntax|/home/|/tmp/`)

var publicCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// sweepBadInput runs the sweep against the backend at url, built as bin,
// on the database at dbURL.
func sweepBadInput(t *testing.T, url, bin, dbURL string) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// A patient and an administrator, and a document of the patient's at
	// which malformed updates aim.
	tokens := map[string]string{
		"user":  sweepAccount(t, url, bin, dbURL, false),
		"admin": sweepAccount(t, url, bin, dbURL, true),
	}
	deleted := sweepAccount(t, url, bin, dbURL, false)
	var doc struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	sweepPost(t, url+"/data/measurement/documents", tokens["user"], map[string]any{"systolic": 120, "diastolic": 80, "taken_at": "2026-11-27T08:30:00Z"}, &doc)
	ids := map[string]string{"id": doc.ID}

	ops := sweepOps(t, ctx, url)
	if len(ops) < 40 {
		t.Fatalf("only %d operations in openapi.json", len(ops))
	}

	var reqs []sweepReq
	add := func(r sweepReq) { reqs = append(reqs, r) }

	// Bearer tokens a client can get wrong.
	garbageTokens := map[string]string{
		"no token":        "",
		"not a jwt":       "Bearer not-a-jwt",
		"empty bearer":    "Bearer ",
		"basic":           "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")),
		"forged jwt":      "Bearer " + forgedJWT(),
		"tampered token":  "Bearer " + tamper(tokens["user"]),
		"huge token":      "Bearer " + strings.Repeat("A", 6000),
		"nul token":       "Bearer a\x01b",
		"two schemes":     "Bearer a, Bearer b",
		"lowercase valid": "bearer " + tokens["user"] + "x",
		"bearer no space": "Bearer",
		"basic no colon":  "Basic " + base64.StdEncoding.EncodeToString([]byte("mobile")),
		"basic bad b64":   "Basic %%%",
		"basic escapes":   "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%zz")),
		"basic bad utf8":  "Basic " + base64.StdEncoding.EncodeToString([]byte("\xff:\xfe")),
		"oauth1 empty":    "OAuth ",
		"oauth1 open":     `OAuth oauth_consumer_key="`,
		"oauth1 escapes":  `OAuth realm="x",oauth_consumer_key="%zz",oauth_signature=%zz`,
		"oauth1 full":     `OAuth oauth_consumer_key="x",oauth_token="y",oauth_nonce="n",oauth_timestamp="99999999999999999999",oauth_signature_method="HMAC-SHA1",oauth_version="1.0",oauth_signature="x"`,
		"oauth1 dupes":    `OAuth oauth_consumer_key="x",oauth_consumer_key="y",oauth_signature_method="PLAINTEXT",oauth_signature="a&b"`,
		"oauth1 negative": `OAuth oauth_consumer_key="x",oauth_nonce="",oauth_timestamp="-1",oauth_signature_method="RSA-SHA1",oauth_signature=""`,
		"dpop":            "DPoP " + tokens["user"],
	}
	valid := map[string]string{}
	for role, tok := range tokens {
		valid[role] = "Bearer " + tok
	}

	for _, op := range ops {
		sideEffect := op.method != http.MethodGet && !op.json && !op.form && !strings.Contains(op.path, "{")
		base := fill(op.path, func(name string) string {
			// Real rows only under malformed bodies: a DELETE ignores its body.
			if id, ok := ids[name]; ok && op.json {
				return id
			}
			return uuid.NewString()
		})
		// Every garbage token, on a request that is otherwise plausible.
		for what, auth := range garbageTokens {
			r := sweepReq{what: "token " + what, method: op.method, url: url + base, auth: auth}
			if op.json {
				r.ctype, r.body = "application/json", []byte(`{}`)
			} else if op.form {
				r.ctype, r.body = "application/x-www-form-urlencoded", []byte("a=b")
			}
			add(r)
		}
		// Odd headers: every operation must still answer as documented.
		for what, h := range map[string]map[string][]string{
			"two authorizations": {"Authorization": {valid["user"], valid["admin"]}},
			"accept-language":    {"Accept-Language": {";;;q=abc,*-*-*,de-DE-x-" + strings.Repeat("a", 500) + ";q=2"}},
			"accept-languages":   {"Accept-Language": {"xx", "zz-ZZ;q=0", "*;q=-1"}},
			"request id":         {"X-Request-ID": {strings.Repeat("r", 5000)}},
			"request id utf8":    {"X-Request-ID": {"\xff\xfe"}},
			"content-encoding":   {"Content-Encoding": {"gzip"}},
			"origin":             {"Origin": {"null"}, "Access-Control-Request-Method": {"DELETE"}},
			"accept":             {"Accept": {"application/xml"}},
			"forwarded":          {"X-Forwarded-For": {"not-an-ip, ::::, 999.1.1.1"}, "Forwarded": {"for=\"[garbage"}, "X-Real-IP": {"%zz"}},
			"expect":             {"Expect": {"100-continue"}},
		} {
			r := sweepReq{what: "header " + what, method: op.method, url: url + base, auth: valid["admin"], header: h, accept: "headers only"}
			if op.json {
				r.ctype, r.body = "application/json", []byte(`{}`)
			} else if op.form {
				r.ctype, r.body = "application/x-www-form-urlencoded", []byte("a=b")
			}
			if sideEffect {
				r.auth = ""
			}
			if what == "two authorizations" {
				r.accept, r.want = "", http.StatusBadRequest
			}
			add(r)
		}
		for role, auth := range valid {
			// Malformed path parameters.
			if strings.Contains(op.path, "{") {
				for what, v := range map[string]string{
					"not a uuid": "not-a-uuid",
					"dot dot":    "..%2F..%2Fetc%2Fpasswd",
					"long":       strings.Repeat("a", 4000),
					"nul":        "%00",
					"upper uuid": strings.ToUpper(uuid.NewString()),
					"unicode":    "%C3%A9t%C3%A9",
					"bad utf8":   "%FF%FE",
					"sql":        "1'%20OR%20'1'='1",
				} {
					r := sweepReq{what: role + " path " + what, method: op.method, url: url + fill(op.path, func(string) string { return v }), auth: auth}
					if op.json {
						r.ctype, r.body = "application/json", []byte(`{}`)
					}
					add(r)
				}
			}
			// Malformed query strings: on GETs, an RQL query or ordinary
			// parameters; elsewhere ignored or refused.
			if op.method == http.MethodGet || !sideEffect {
				for what, q := range map[string]string{
					"bad escape":   "%zz",
					"rql syntax":   "and((",
					"rql field":    "eq(no_such_field,1)",
					"rql value":    "eq(created_at,yesterday)",
					"rql limit":    "limit(-1,-5)",
					"rql deep":     strings.Repeat("and(", 200) + "eq(id,1)" + strings.Repeat(")", 200),
					"rql nul":      "eq(id,%2500)",
					"rql huge":     "limit(99999999999999999999999)",
					"rql sort":     "sort(-,+)",
					"rql like":     "like(id,%25%5C)",
					"params":       "limit=abc&offset=-1&cursor=%00%FF&state=%FF",
					"long":         "a=" + strings.Repeat("x", 6000),
					"bad utf8":     "eq(status,%FF%FE)",
					"many params":  strings.Repeat("a=1&", 2000),
					"authorize":    "response_type=code&client_id=mobile&redirect_uri=%zz&scope=%FF&code_challenge=x&code_challenge_method=S256&state=" + strings.Repeat("s", 5000),
					"authorize js": "response_type=token&client_id=mobile&redirect_uri=javascript:alert(1)&response_type=code",
					"authorize ok": "response_type=code&client_id=mobile&redirect_uri=http://127.0.0.1/callback&scope=openid%00&code_challenge=" + strings.Repeat("A", 43) + "&code_challenge_method=S256&nonce=%FF",
					"sso":          "state=%00&code=%FF&iss=%zz&error=access_denied&ticket=garbage",
				} {
					if sideEffect {
						continue
					}
					r := sweepReq{what: role + " query " + what, method: op.method, url: url + base + "?" + q, auth: auth}
					if !strings.HasPrefix(op.path, "/data/") {
						r.accept = "only RQL operations read the query string"
					}
					if op.json {
						r.ctype, r.body = "application/json", []byte(`{}`)
					} else if op.form {
						r.ctype, r.body = "application/x-www-form-urlencoded", []byte("a=b")
					}
					add(r)
				}
			}
			// Every RQL field against values of every shape.
			for _, f := range op.rqlFields {
				for _, v := range rqlValues {
					for _, q := range []string{"eq(%s,%s)", "gt(%s,%s)", "in(%s,%s,%s)", "like(%s,%s)", "contains(%s,%s)", "eq(%s.x.y,%s)", "sort(-%s)&limit(1,%s)"} {
						q = strings.ReplaceAll(fmt.Sprintf(q, f, v, v), "%!(EXTRA string=", "x(")
						add(sweepReq{what: role + " rql " + q, method: op.method, url: url + base + "?" + q, auth: auth, accept: "a well-formed query"})
					}
				}
			}
			if sideEffect {
				continue
			}
			// Malformed bodies, also to operations that take none.
			for what, b := range badBodies(op.schema) {
				if op.method == http.MethodPatch && strings.HasPrefix(what, "null ") {
					continue // a JSON merge patch removes a field with null
				}
				for _, ct := range bodyTypes(op) {
					add(sweepReq{what: role + " body " + what + " as " + ct, method: op.method, url: url + base, auth: auth, ctype: ct, body: b})
				}
			}
			// Malformed preconditions.
			if op.method == http.MethodPatch && strings.HasPrefix(op.path, "/data/") {
				for _, v := range []string{"garbage", `"abc"`, `W/"abc"`, "-1", `"-1"`, `"99999999999999999999999"`, `"1", "2"`, `"\x00"`, `""`, `"1.5"`} {
					add(sweepReq{what: role + " If-Match " + v, method: op.method, url: url + base, auth: auth, ctype: "application/json", body: []byte(`{"note":"sweep"}`), ifMatch: v})
				}
			}
			// A plausible body under a wrong or missing Content-Type.
			if op.json {
				b, _ := json.Marshal(sample(op.schema))
				for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=latin1", "application/json-patch+json", "application/xml", ";;;"} {
					add(sweepReq{what: role + " content-type " + ct, method: op.method, url: url + base, auth: auth, ctype: ct, body: b})
				}
			}
			if op.form {
				for what, b := range map[string]string{
					"garbage":     "%zz%%&&==\x00",
					"json":        `{"grant_type":"password"}`,
					"repeated":    "grant_type=a&grant_type=b&client_id=x&client_id=y",
					"bad utf8":    "grant_type=\xff\xfe&token=\xff",
					"nul":         "grant_type=%00&token=%00&client_id=%00",
					"long":        "token=" + strings.Repeat("x", 100000),
					"unknown":     "grant_type=refresh_token&refresh_token=garbage&client_id=nope",
					"code":        "grant_type=authorization_code&code=garbage&redirect_uri=%zz&code_verifier=x",
					"many fields": strings.Repeat("a=1&", 5000),
				} {
					add(sweepReq{what: role + " form " + what, method: op.method, url: url + base, auth: auth, ctype: "application/x-www-form-urlencoded", body: []byte(b)})
				}
			}
		}
	}

	// Methods the document does not list, and odd path shapes.
	methods := map[string][]string{}
	for _, op := range ops {
		methods[op.path] = append(methods[op.path], op.method)
	}
	for path, ms := range methods {
		p := fill(path, func(string) string { return uuid.NewString() })
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"} {
			if !slices.Contains(ms, m) {
				r := sweepReq{what: "method " + m, method: m, url: url + p, auth: valid["admin"], ctype: "application/json", body: []byte(`{}`)}
				if m == http.MethodOptions {
					r.accept = "a CORS preflight"
				}
				add(r)
			}
		}
		for what, v := range map[string]string{"trailing slash": p + "/", "double slash": "/" + p, "dot segment": p + "/../" + p[1:], "encoded slash": strings.Replace(p, "/", "%2F", 2), "suffix": p + ".json", "semicolon": p + ";x=1", "upper": strings.ToUpper(p)} {
			add(sweepReq{what: "admin path " + what, method: ms[0], url: url + v, auth: valid["admin"], accept: "another path"})
		}
	}

	before := rowCounts(t, ctx, dbURL)
	failures, statuses := runSweep(ctx, reqs)
	after := rowCounts(t, ctx, dbURL)

	sort.Strings(failures)
	for i, f := range failures {
		if i == 100 {
			t.Errorf("… and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	var again struct {
		Version int `json:"version"`
	}
	sweepGet(t, url+"/data/measurement/documents/"+doc.ID, tokens["user"], &again)
	if again.Version != doc.Version {
		t.Errorf("IN-2: malformed updates changed document %s from version %d to %d", doc.ID, doc.Version, again.Version)
	}
	for table, n := range after {
		if before[table] != n && !sweepMayGrow[table] {
			t.Errorf("IN-2: table %s went from %d to %d rows during the sweep: a refused request wrote", table, before[table], n)
		}
	}
	t.Logf("sweep: %d operations, %d malformed requests; statuses %v", len(ops), len(reqs), statuses)

	// Well-formed requests that name rows that do not exist, or rows that
	// do, and a token whose user was deleted: refused or done, never a
	// 5xx. (They may write, so after the row counts.)
	var group struct {
		ID string `json:"id"`
	}
	sweepPost(t, url+"/groups", tokens["admin"], map[string]any{"name": "Sweep clinic"}, &group)
	var me, gone struct {
		ID string `json:"id"`
	}
	sweepGet(t, url+"/users/me", tokens["user"], &me)
	sweepGet(t, url+"/users/me", deleted, &gone)
	sweepDo(t, http.MethodDelete, url+"/users/"+gone.ID, tokens["admin"], nil, nil)
	real := map[string]string{"id": doc.ID, "group_id": group.ID, "user_id": me.ID, "role": "patient", "provider": "google", "client_id": "mobile"}
	valid["deleted user"] = "Bearer " + deleted
	reqs = reqs[:0]
	var edgeReqs []sweepReq
	for _, op := range ops {
		if op.method != http.MethodGet && !op.json && !op.form && !strings.Contains(op.path, "{") {
			continue
		}
		var params []string
		fill(op.path, func(name string) string { params = append(params, name); return "" })
		paths := map[string]bool{
			fill(op.path, func(n string) string { return real[n] }):        true,
			fill(op.path, func(string) string { return uuid.NewString() }): true,
		}
		for _, random := range params {
			paths[fill(op.path, func(n string) string {
				if n == random {
					return uuid.NewString()
				}
				return real[n]
			})] = true
		}
		var body []byte
		ctype := ""
		if op.json {
			body, _ = json.Marshal(sample(op.schema))
			ctype = "application/json"
		} else if op.form {
			body, ctype = []byte("grant_type=client_credentials&client_id=mobile&token=x"), "application/x-www-form-urlencoded"
		}
		for p := range paths {
			for role, auth := range valid {
				add(sweepReq{what: role + " plausible", method: op.method, url: url + p, auth: auth, ctype: ctype, body: body, accept: "well-formed"})
			}
		}
		// Valid values at the edges: strings of maxLength characters that
		// are 4 bytes each, or that NFC normalization lengthens (U+0958
		// decomposes), and extreme date-times.
		props, _ := op.schema["properties"].(map[string]any)
		for k, p := range props {
			ps, _ := p.(map[string]any)
			var edges []any
			if n, ok := ps["maxLength"].(float64); ok && ps["type"] == "string" && ps["format"] == nil && ps["pattern"] == nil {
				edges = append(edges, strings.Repeat("😀", int(n)), strings.Repeat("\u0958", int(n)), strings.Repeat("e\u0301", int(n)/2))
			}
			if ps["format"] == "date-time" {
				edges = append(edges, "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999+14:00", "0000-01-01T00:00:00-14:00")
			}
			for _, v := range edges {
				m, _ := sample(op.schema).(map[string]any)
				m[k] = v
				b, _ := json.Marshal(m)
				for role, auth := range valid {
					edgeReqs = append(edgeReqs, sweepReq{what: role + " edge " + k, method: op.method, url: url + fill(op.path, func(n string) string { return real[n] }), auth: auth, ctype: ctype, body: b, accept: "well-formed"})
				}
			}
		}
	}
	// The edges first: the plausible requests delete rows they aim at.
	failures, statuses = runSweep(ctx, edgeReqs)
	sort.Strings(failures)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("sweep: %d well-formed requests with edge values; statuses %v", len(edgeReqs), statuses)
	failures, statuses = runSweep(ctx, reqs)
	sort.Strings(failures)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("sweep: %d well-formed requests; statuses %v", len(reqs), statuses)
}

// sweepMayGrow are the tables a refused request may write to: the audit
// trail of denials and the counters of failed attempts.
var sweepMayGrow = map[string]bool{
	"audit_log":      true,
	"login_throttle": true, // AUTH-6: a failed login counts, however malformed its credentials
}

// runSweep sends the requests, a few at a time, and returns what failed.
//
// The requests come from many loopback addresses (127.0.x.y), so the
// per-IP limit on authentication attempts (AUTH-6) lets most of them
// through to the handlers under test.
func runSweep(ctx context.Context, reqs []sweepReq) ([]string, map[int]int) {
	clients := make([]*http.Client, 200)
	for i := range clients {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}}
		clients[i] = &http.Client{
			Timeout:       20 * time.Second,
			Transport:     &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 1},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		next     = make(chan int)
		statuses = map[int]int{}
	)
	seen := func(status int) {
		mu.Lock()
		defer mu.Unlock()
		statuses[status]++
	}
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	for range 4 {
		wg.Go(func() {
			for i := range next {
				r := reqs[i]
				if msg := check(ctx, clients[i%len(clients)], r, seen); msg != "" {
					fail("%s %s (%s): %s", r.method, short(r.url), r.what, msg)
				}
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return failures, statuses
}

// check sends one request and returns what is wrong with the answer.
func check(ctx context.Context, client *http.Client, r sweepReq, seen func(int)) string {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return "" // a URL Go's client refuses to send is no server's concern
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.auth != "" {
		req.Header["Authorization"] = []string{r.auth}
	}
	if r.ifMatch != "" {
		req.Header["If-Match"] = []string{r.ifMatch}
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "invalid header field value") {
			return ""
		}
		return "transport error: " + err.Error()
	}
	defer resp.Body.Close()
	seen(resp.StatusCode)
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case r.want != 0 && resp.StatusCode != r.want:
		return fmt.Sprintf("IN-2: status %d, want %d: %.300s", resp.StatusCode, r.want, data)
	case resp.StatusCode >= 500:
		return fmt.Sprintf("IN-5: status %d: %.300s", resp.StatusCode, data)
	case leaks.Match(data):
		return fmt.Sprintf("IN-5: body leaks internals: %.300s", data)
	case resp.StatusCode < 300 && r.method != http.MethodGet && r.body != nil && r.accept == "":
		return fmt.Sprintf("IN-2: a malformed request was accepted: %d %.200s", resp.StatusCode, data)
	case resp.StatusCode < 400:
		return ""
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		// The authorization endpoint answers a person's browser.
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && strings.Contains(r.url, "/oauth/authorize") {
			return ""
		}
		return fmt.Sprintf("IN-5: status %d with Content-Type %q: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	var e struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
		Error   *string `json:"error"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Sprintf("IN-5: status %d, body is not a JSON object: %.200s", resp.StatusCode, data)
	}
	switch {
	case e.Code != nil && publicCode.MatchString(*e.Code) && e.Message != nil:
	case e.Error != nil && publicCode.MatchString(*e.Error) && strings.Contains(r.url, "/oauth/"):
	default:
		return fmt.Sprintf("IN-5: status %d, not the documented error shape: %.200s", resp.StatusCode, data)
	}
	return ""
}

func short(u string) string {
	if len(u) > 120 {
		return u[:120] + "…"
	}
	return u
}

// sweepOps reads the operations of the backend's own OpenAPI document.
func sweepOps(t *testing.T, ctx context.Context, url string) []sweepOp {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/openapi.json", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	schemas, _ := dig(doc, "components", "schemas").(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	var ops []sweepOp
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			method = strings.ToUpper(method)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
				continue
			}
			op := sweepOp{method: method, path: path}
			content, _ := dig(o, "requestBody", "content").(map[string]any)
			if c, ok := content["application/json"]; ok {
				op.json = true
				op.schema = resolve(dig(c, "schema"), schemas, 0)
			}
			_, op.form = content["application/x-www-form-urlencoded"]
			if fields, ok := dig(o, "x-rql", "fields").([]any); ok {
				for _, f := range fields {
					op.rqlFields = append(op.rqlFields, fmt.Sprint(f))
				}
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// resolve inlines $refs (to a small depth).
func resolve(v any, schemas map[string]any, depth int) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil || depth > 8 {
		return nil
	}
	if ref, ok := m["$ref"].(string); ok {
		return resolve(schemas[strings.TrimPrefix(ref, "#/components/schemas/")], schemas, depth+1)
	}
	out := map[string]any{}
	for k, x := range m {
		out[k] = x
	}
	if props, ok := m["properties"].(map[string]any); ok {
		rp := map[string]any{}
		for k, p := range props {
			rp[k] = resolve(p, schemas, depth+1)
		}
		out["properties"] = rp
	}
	if items := resolve(m["items"], schemas, depth+1); items != nil {
		out["items"] = items
	}
	return out
}

// sample is a plausible value for a schema.
func sample(s map[string]any) any {
	return sampleNamed("", s)
}

// sampleValues are plausible values of the fixed API's fields whose
// schema does not say enough.
var sampleValues = map[string]any{
	"phone":     "+4930123456",
	"language":  "en",
	"time_zone": "Europe/Berlin",
	"password":  "correct horse battery staple 2",
	"email":     "sweep@example.com",
	"role":      "patient",
}

func sampleNamed(name string, s map[string]any) any {
	if v, ok := sampleValues[name]; ok && s["type"] == "string" {
		return v
	}
	typ, _ := s["type"].(string)
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	switch typ {
	case "object":
		o := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for k, p := range props {
			ps, _ := p.(map[string]any)
			o[k] = sampleNamed(k, ps)
		}
		return o
	case "array":
		items, _ := s["items"].(map[string]any)
		return []any{sample(items)}
	case "integer":
		return 50
	case "number":
		return 50.5
	case "boolean":
		return true
	case "string":
		switch s["format"] {
		case "email":
			return "sweep-" + uuid.NewString()[:8] + "@example.com"
		case "date-time":
			return "2026-01-02T03:04:05Z"
		case "date":
			return "2026-01-02"
		case "uuid":
			return uuid.NewString()
		case "uri":
			return "https://example.com/cb"
		}
		// Fits the patterns and lengths of the example's fields.
		v := "ABCD1234"
		if n, ok := s["maxLength"].(float64); ok && int(n) < len(v) {
			v = v[:int(n)]
		}
		return v
	}
	return "x"
}

// wrong is a value of another JSON type than the schema's.
func wrong(s map[string]any) any {
	switch s["type"] {
	case "string":
		return 12
	case "object":
		return "x"
	case "array":
		return map[string]any{"a": 1}
	default:
		return []any{"x"}
	}
}

// badBodies are malformed JSON bodies for a request schema (nil: none).
func badBodies(schema map[string]any) map[string][]byte {
	bodies := map[string][]byte{
		"empty":          {},
		"null":           []byte(`null`),
		"array":          []byte(`[{}]`),
		"string":         []byte(`"x"`),
		"number":         []byte(`1e999`),
		"truncated":      []byte(`{"a":`),
		"trailing":       []byte(`{} {}`),
		"trailing comma": []byte(`{"a":1,}`),
		"bom":            []byte("\xef\xbb\xbf{}"),
		"bad utf8 key":   []byte("{\"\xff\":1}"),
		"deep object":    []byte(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)),
		"deep array":     []byte(`{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`),
		"huge":           bytes.Repeat([]byte(" "), 2<<20),
		"nul key":        []byte(`{"a\u0000b":1}`),
	}
	if schema == nil {
		return bodies
	}
	base, _ := sample(schema).(map[string]any)
	if base == nil {
		return bodies
	}
	for what, v := range mutations(schema, "", 0) {
		b, _ := json.Marshal(v)
		bodies[what] = rawRe.ReplaceAllFunc(b, func(m []byte) []byte {
			return []byte(rawValues[string(m[len(`"@@raw:`):len(m)-len(`@@"`)])])
		})
	}
	// Duplicate keys: a property twice, the second one valid.
	props, _ := schema["properties"].(map[string]any)
	for k, p := range props {
		ps, _ := p.(map[string]any)
		b, _ := json.Marshal(base)
		dup, _ := json.Marshal(k)
		wv, _ := json.Marshal(sample(ps))
		bodies["duplicate "+k] = append(append(append(append([]byte(`{`), dup...), ':'), wv...), append([]byte(`,`), b[1:]...)...)
	}
	return bodies
}

// rawValues are JSON texts json.Marshal cannot write; mutations put them
// in as "@@raw:name@@" strings.
var rawValues = map[string]string{
	"bad utf8":       "\"a\xff\xfeb\"",
	"lone surrogate": `"a\ud800b"`,
	"huge":           "123456789012345678901234567890",
	"exp":            "1e400",
	"neg":            "-9223372036854775809",
	"tiny":           "1e-400",
}

var rawRe = regexp.MustCompile(`"@@raw:[a-z0-9 ]+@@"`)

// mutations are values for a schema, each wrong in one place, named by
// the JSON pointer of that place. Objects and arrays recurse (to depth 3),
// keeping every other property plausible.
func mutations(s map[string]any, at string, depth int) map[string]any {
	out := map[string]any{}
	if s == nil || depth > 3 {
		return out
	}
	out["wrong type "+at] = wrong(s)
	if depth > 0 {
		out["null "+at] = nil
	}
	switch s["type"] {
	case "string":
		out["nul in "+at] = "a\u0000b"
		out["long "+at] = strings.Repeat("é", 200000)
		if _, ok := s["format"]; ok {
			out["bad format "+at] = "not-valid-0000-13-45T99:99:99"
			out["edge format "+at] = "0000-01-01T00:00:00+25:00"
		}
		if _, ok := s["enum"]; ok {
			out["bad enum "+at] = "NOT_IN_ENUM"
		}
		for _, r := range []string{"bad utf8", "lone surrogate"} {
			out[r+" in "+at] = "@@raw:" + r + "@@"
		}
	case "integer", "number":
		for _, r := range []string{"huge", "exp", "neg"} {
			out[r+" "+at] = "@@raw:" + r + "@@"
		}
		if _, ok := s["maximum"]; ok {
			out["max int64 "+at] = int64(9223372036854775807)
		}
		if s["type"] == "integer" {
			out["fraction "+at] = 1.5
			out["tiny "+at] = "@@raw:tiny@@" // 1e-400: a number, but no integer
		}
	case "array":
		items, _ := s["items"].(map[string]any)
		many := make([]any, 20000)
		for i := range many {
			many[i] = sample(items)
		}
		out["many "+at] = many
		for what, v := range mutations(items, at+"/0", depth+1) {
			out[what] = []any{v}
		}
	case "object":
		base, _ := sample(s).(map[string]any)
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for k2, v2 := range base {
				m[k2] = v2
			}
			m[k] = v
			return m
		}
		out["unknown property "+at] = with("sweep_unknown", 1)
		props, _ := s["properties"].(map[string]any)
		for k, p := range props {
			ps, _ := p.(map[string]any)
			for what, v := range mutations(ps, at+"/"+k, depth+1) {
				out[what] = with(k, v)
			}
		}
	}
	return out
}

// bodyTypes are the Content-Types to send a malformed body with.
func bodyTypes(sweepOp) []string { return []string{"application/json"} }

// fill substitutes every {param} of a path template.
func fill(path string, value func(name string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String()
		}
		j := strings.IndexByte(path[i:], '}') + i
		b.WriteString(path[:i])
		b.WriteString(value(path[i+1 : j]))
		path = path[j+1:]
	}
}

func forgedJWT() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		enc([]byte(`{"sub":"`+uuid.NewString()+`","exp":1,"roles":["admin"]}`)) + "."
}

// tamper flips a character of a token's signature.
func tamper(tok string) string {
	if tok == "" {
		return "x.y.z"
	}
	b := []byte(tok)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

// rowCounts counts the rows of every table in the public schema.
func rowCounts(t *testing.T, ctx context.Context, dbURL string) map[string]int64 {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

// sweepAccount registers a user (an admin if admin is set, through the
// backend's grant-role command) and returns a fresh access token.
func sweepAccount(t *testing.T, url, bin, dbURL string, admin bool) string {
	t.Helper()
	email := "sweep-" + uuid.NewString()[:8] + "@example.com"
	const pw = "correct horse battery staple"
	sweepPost(t, url+"/auth/register", "", map[string]string{"email": email, "password": pw}, nil)
	if admin {
		cmd := exec.Command(bin, "users", "grant-role", email, "admin")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("users grant-role: %v\n%s", err, out)
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	login := map[string]string{"email": email, "password": pw}
	if !admin {
		sweepPost(t, url+"/auth/login", "", login, &tok)
		return tok.AccessToken
	}
	// Administrators must use MFA (MFA-5): enrol TOTP with the enrolment
	// token the first login gives, then sign in with the next step's code.
	var ch struct {
		EnrollmentToken string `json:"enrollment_token"`
		MFAToken        string `json:"mfa_token"`
	}
	sweepDoStatus(t, http.MethodPost, url+"/auth/login", "", login, http.StatusForbidden, &ch)
	var en struct {
		Secret string `json:"secret"`
	}
	sweepPost(t, url+"/oauth/mfa/totp", ch.EnrollmentToken, nil, &en)
	now := time.Now()
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(en.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sweepPost(t, url+"/oauth/mfa/totp/confirm", ch.EnrollmentToken, map[string]string{"code": code(now)}, nil)
	sweepDoStatus(t, http.MethodPost, url+"/auth/login", "", login, http.StatusForbidden, &ch)
	sweepPost(t, url+"/auth/login/mfa", "", map[string]string{"mfa_token": ch.MFAToken, "code": code(now.Add(30 * time.Second))}, &tok)
	return tok.AccessToken
}

// sweepDoStatus sends in as JSON and requires the status want.
func sweepDoStatus(t *testing.T, method, url, token string, in any, want int, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, data, want)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
}

func sweepPost(t *testing.T, url, token string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	sweepDo(t, http.MethodPost, url, token, body, out)
}

func sweepGet(t *testing.T, url, token string, out any) {
	t.Helper()
	sweepDo(t, http.MethodGet, url, token, nil, out)
}

func sweepDo(t *testing.T, method, url, token string, body io.Reader, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}
