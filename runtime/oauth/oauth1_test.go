package oauth

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RFC 5849 HMAC-SHA1
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A client-side RFC 5849 signer written from the RFC, independently of
// oauth1.go (another encoder, another normalisation), so the server is
// checked against the specification rather than against itself.

// rfcEncode is RFC 5849 §3.6 built on url.QueryEscape, which escapes the
// same set except for space (+), '~' (escaped) and '*' (kept).
func rfcEncode(s string) string {
	e := url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
}

type oauth1Client struct {
	consumerKey, consumerSecret, token, tokenSecret string
}

// baseString is §3.4.1 for a request with the given query and form
// parameters and oauth_* protocol parameters.
func rfcBaseString(method, baseURI string, params url.Values) string {
	var pairs []string
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, rfcEncode(k)+"="+rfcEncode(v))
		}
	}
	sort.Strings(pairs) // "name=value" sorts by name then value: '=' sorts below every encoded byte
	return method + "&" + rfcEncode(baseURI) + "&" + rfcEncode(strings.Join(pairs, "&"))
}

// sign returns the Authorization header of a request (§3.5.1).
func (c oauth1Client) sign(method, baseURI string, query, form url.Values, ts int64, nonce string) string {
	oauth := map[string]string{"oauth_consumer_key": c.consumerKey, "oauth_token": c.token,
		"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": strconv.FormatInt(ts, 10), "oauth_nonce": nonce, "oauth_version": "1.0"}
	all := url.Values{}
	for _, vs := range []url.Values{query, form} {
		for k, v := range vs {
			all[k] = append(all[k], v...)
		}
	}
	for k, v := range oauth {
		all.Set(k, v)
	}
	m := hmac.New(sha1.New, []byte(rfcEncode(c.consumerSecret)+"&"+rfcEncode(c.tokenSecret)))
	m.Write([]byte(rfcBaseString(method, baseURI, all)))
	oauth["oauth_signature"] = base64.StdEncoding.EncodeToString(m.Sum(nil))
	var parts []string
	for k, v := range oauth {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, rfcEncode(k), rfcEncode(v)))
	}
	sort.Strings(parts)
	return `OAuth realm="exhgen", ` + strings.Join(parts, ", ")
}

// The RFC 5849 §3.4.1.1 example: its request gives exactly the RFC's
// signature base string, with the test's signer and with the server's.
func TestOAuth1_RFC5849SignatureBaseString(t *testing.T) {
	t.Parallel()
	const want = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q" +
		"%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_" +
		"key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m" +
		"ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk" +
		"9d7dh3k39sjv7"
	params := url.Values{"b5": {"=%3D"}, "a3": {"a", "2 q"}, "c@": {""}, "a2": {"r b"}, "c2": {""},
		"oauth_consumer_key": {"9djdj82h48djs9d2"}, "oauth_token": {"kkk9d7dh3k39sjv7"}, "oauth_signature_method": {"HMAC-SHA1"},
		"oauth_timestamp": {"137131201"}, "oauth_nonce": {"7d8f3e4a"}}
	if got := rfcBaseString("POST", "http://example.com/request", params); got != want {
		t.Fatalf("test signer:\n got %s\nwant %s", got, want)
	}

	r, _ := http.NewRequest(http.MethodPost, "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", strings.NewReader("c2&a3=2+q"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", `OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", `+
		`oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"`)
	h, err := parseOAuthHeader(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := requestParams(r, h)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{issuer: "http://example.com"}
	if base := signatureBaseString(r.Method, s.baseStringURI(r), got); base != want {
		t.Fatalf("server:\n got %s\nwant %s", base, want)
	}
	if body, _ := io.ReadAll(r.Body); string(body) != "c2&a3=2+q" {
		t.Errorf("the body was not put back: %q", body)
	}

	// The RFC 5849 §1.2 example's HMAC-SHA1 signature.
	r, _ = http.NewRequest(http.MethodGet, "http://photos.example.net/photos?file=vacation.jpg&size=original", nil)
	h = map[string]string{"oauth_consumer_key": "dpf43f3p2l4k3l03", "oauth_token": "nnch734d00sl2jdk", "oauth_signature_method": "HMAC-SHA1",
		"oauth_timestamp": "137131202", "oauth_nonce": "chapoH"}
	got, _ = requestParams(r, h)
	s = &Server{issuer: "http://photos.example.net"}
	sig := base64.StdEncoding.EncodeToString(hmacSHA1(signatureBaseString(r.Method, s.baseStringURI(r), got), "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"))
	if sig != "MdpQcU8iPSUjWoN/UDMsK2sui9I=" {
		t.Errorf("§1.2 signature %s", sig)
	}
}

// issueOAuth1 creates a user and a credential for them through the API.
func (e *env) issueOAuth1(admin string) (oauth1Client, string) {
	e.t.Helper()
	uid := e.register("gateway@clinic.example")
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/oauth1/credentials",
		strings.NewReader(`{"user_id":"`+uid.String()+`","description":"device gateway"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var c NewOAuth1Credential
	_ = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || c.ConsumerSecret == "" || c.TokenSecret == "" {
		e.t.Fatalf("issue: %d %+v", resp.StatusCode, c)
	}
	return oauth1Client{c.ConsumerKey, c.ConsumerSecret, c.Token, c.TokenSecret}, c.ID.String()
}

func (e *env) adminToken() string {
	e.t.Helper()
	e.register("admin@clinic.example", "admin")
	return e.mobileTokens("admin@clinic.example")["access_token"].(string)
}

// signed sends a signed request to /test/whoami (GET with a query, or
// POST with a form body) and returns the status and answer.
func (e *env) signed(c oauth1Client, method string, query, form url.Values, ts int64, nonce string, tamper func(*http.Request)) (int, map[string]string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := e.issuer + "/test/whoami"
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", c.sign(method, e.issuer+"/test/whoami", query, form, ts, nonce))
	if tamper != nil {
		tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "OAuth ") {
		e.t.Errorf("401 without an OAuth challenge")
	}
	return resp.StatusCode, out
}

var nonceSeq struct {
	sync.Mutex
	n int
}

func nonce() string {
	nonceSeq.Lock()
	defer nonceSeq.Unlock()
	nonceSeq.n++
	return "n" + strconv.Itoa(nonceSeq.n)
}

// Signed requests authenticate as the credential's user, alongside bearer
// tokens; what the signature covers cannot be changed; the timestamp must
// be within ±300 s; a nonce is accepted once; revoking ends it.
func TestOAuth1_SignedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, id := e.issueOAuth1(e.adminToken())
	now := e.clock.Now().Unix()
	q := url.Values{"file": {"vacation.jpg"}, "size": {"original ~*"}}

	st, out := e.signed(c, http.MethodGet, q, nil, now, nonce(), nil)
	if st != http.StatusOK || out["user_id"] == "" || out["client"] != c.consumerKey {
		t.Fatalf("signed GET: %d %v", st, out)
	}
	form := url.Values{"note": {"BP 120/80 & ok"}, "a": {"1", "2"}}
	if st, out := e.signed(c, http.MethodPost, q, form, now, nonce(), nil); st != http.StatusOK || out["note"] != "BP 120/80 & ok" {
		t.Fatalf("signed form POST: %d %v", st, out)
	}

	for _, tc := range []struct {
		name   string
		ts     int64
		tamper func(*http.Request)
		form   url.Values
	}{
		{"timestamp 301 s old", now - 301, nil, nil},
		{"timestamp 301 s ahead", now + 301, nil, nil},
		{"query changed", now, func(r *http.Request) { r.URL.RawQuery = "file=other.jpg&size=original+~*" }, nil},
		{"method changed", now, func(r *http.Request) { r.Method = http.MethodDelete }, nil},
		{"form body changed", now, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("note=forged&a=1&a=2"))
			r.ContentLength = -1
		}, url.Values{"note": {"original"}, "a": {"1", "2"}}},
		{"wrong token secret", now, func(r *http.Request) {
			bad := oauth1Client{c.consumerKey, c.consumerSecret, c.token, "x"}
			r.Header.Set("Authorization", bad.sign(http.MethodGet, e.issuer+"/test/whoami", q, nil, now, nonce()))
		}, nil},
		{"PLAINTEXT method", now, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "HMAC-SHA1", "PLAINTEXT", 1))
		}, nil},
		{"unknown token", now, func(r *http.Request) {
			other := oauth1Client{c.consumerKey, c.consumerSecret, "exh_o1tk_unknown", c.tokenSecret}
			r.Header.Set("Authorization", other.sign(http.MethodGet, e.issuer+"/test/whoami", q, nil, now, nonce()))
		}, nil},
	} {
		method := http.MethodGet
		if tc.form != nil {
			method = http.MethodPost
		}
		if st, out := e.signed(c, method, q, tc.form, tc.ts, nonce(), tc.tamper); st != http.StatusUnauthorized {
			t.Errorf("%s: %d %v", tc.name, st, out)
		}
	}
	// Within the window both ways.
	for _, ts := range []int64{now - 299, now + 299} {
		if st, _ := e.signed(c, http.MethodGet, q, nil, ts, nonce(), nil); st != http.StatusOK {
			t.Errorf("timestamp %+d s: %d", ts-now, st)
		}
	}

	// Replay: the same nonce once only, even in parallel.
	n := nonce()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 10 {
		wg.Go(func() {
			if st, _ := e.signed(c, http.MethodGet, q, nil, now, n, nil); st == http.StatusOK {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("the same nonce succeeded %d times, want 1", ok)
	}

	// Revocation.
	st, body := e.do(http.MethodDelete, "/oauth/oauth1/credentials/"+id, e.mobileTokens("admin@clinic.example")["access_token"].(string))
	if st != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", st, body)
	}
	if st, _ := e.signed(c, http.MethodGet, q, nil, now, nonce(), nil); st != http.StatusUnauthorized {
		t.Errorf("revoked credential: %d", st)
	}
}

// The secrets are shown once: the database holds them encrypted, and the
// list endpoint never shows them. Only admins issue credentials.
func TestOAuth1_SecretsStoredEncryptedAndShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	c, _ := e.issueOAuth1(admin)
	var dump string
	if err := e.pool.QueryRow(t.Context(), `SELECT string_agg(t::text, ' ') FROM oauth1_credentials t`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{c.consumerSecret, c.tokenSecret} {
		if strings.Contains(dump, secret) || strings.Contains(dump, fmt.Sprintf("%x", secret)) {
			t.Error("a secret is stored in clear")
		}
	}
	st, body := e.do(http.MethodGet, "/oauth/oauth1/credentials", admin)
	if st != http.StatusOK || !strings.Contains(string(body), c.consumerKey) || strings.Contains(string(body), c.consumerSecret) ||
		strings.Contains(string(body), c.tokenSecret) {
		t.Fatalf("list: %d %s", st, body)
	}
	user := e.mobileTokens("gateway@clinic.example")["access_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/oauth1/credentials", strings.NewReader(`{"user_id":"00000000-0000-0000-0000-000000000001"}`))
	req.Header.Set("Authorization", "Bearer "+user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a user without the permission issued a credential: %d", resp.StatusCode)
	}
}
