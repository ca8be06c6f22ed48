package oauth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 5849 HMAC-SHA1, the signature method OAuth 1.0 clients use
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/server"
)

// OAuth 1.0 (RFC 5849) machine credentials: long-lived credentials for
// scripts and device gateways that sign each request with HMAC-SHA1 and
// act as one user. A credential is a consumer key and secret with a token
// and token secret (the two-legged form: there is no redirect-based token
// request, an administrator issues both). Signed requests are
// authenticated by OAuth1Middleware before the API's bearer security.

// Permissions of the OAuth 1.0 credential endpoints, and of key rotation.
const (
	PermCreateOAuth1 = "auth:oauth1_credentials:create"
	PermReadOAuth1   = "auth:oauth1_credentials:read"
	PermDeleteOAuth1 = "auth:oauth1_credentials:delete"
)

// OAuth1Window is how far a request's oauth_timestamp may be from the
// server's clock, either way.
const OAuth1Window = 300 * time.Second

// OAuth1Credential describes a credential without its secrets.
type OAuth1Credential struct {
	ID          uuid.UUID  `json:"id"`
	ConsumerKey string     `json:"consumer_key"`
	Token       string     `json:"token"`
	UserID      uuid.UUID  `json:"user_id"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// NewOAuth1Credential is a freshly issued credential: its secrets are
// shown once.
type NewOAuth1Credential struct {
	OAuth1Credential
	ConsumerSecret string `json:"consumer_secret"`
	TokenSecret    string `json:"token_secret"`
}

type oauth1Secrets struct {
	Consumer string `json:"c"`
	Token    string `json:"t"`
}

func newOAuth1AEAD(secret []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, "exhgen oauth1 secrets aes-gcm v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (s *Server) sealOAuth1(id uuid.UUID, sec oauth1Secrets) []byte {
	plain, _ := json.Marshal(sec)
	nonce := make([]byte, s.oauth1AEAD.NonceSize())
	_, _ = rand.Read(nonce)
	return s.oauth1AEAD.Seal(nonce, nonce, plain, id[:])
}

func (s *Server) openOAuth1(id uuid.UUID, enc []byte) (oauth1Secrets, error) {
	var sec oauth1Secrets
	n := s.oauth1AEAD.NonceSize()
	if len(enc) < n {
		return sec, errors.New("ciphertext too short")
	}
	plain, err := s.oauth1AEAD.Open(nil, enc[:n], enc[n:], id[:])
	if err != nil {
		return sec, err
	}
	return sec, json.Unmarshal(plain, &sec)
}

// IssueOAuth1 creates a credential acting as userID.
func (s *Server) IssueOAuth1(ctx context.Context, userID uuid.UUID, description string, actor *uuid.UUID) (*NewOAuth1Credential, error) {
	now := s.now()
	c := &NewOAuth1Credential{
		OAuth1Credential: OAuth1Credential{ID: uuid.New(), ConsumerKey: newToken("exh_o1ck_"), Token: newToken("exh_o1tk_"),
			UserID: userID, Description: description, CreatedAt: now},
		ConsumerSecret: newToken("exh_o1cs_"), TokenSecret: newToken("exh_o1ts_"),
	}
	enc := s.sealOAuth1(c.ID, oauth1Secrets{Consumer: c.ConsumerSecret, Token: c.TokenSecret})
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return apierr.Validation("The request is invalid.",
				apierr.FieldError{Field: "/user_id", Code: "unknown_user", Message: "There is no such user."})
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oauth1_credentials (id, consumer_key, token, secrets_enc, user_id, description, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.ID, c.ConsumerKey, c.Token, enc, userID, description, actor, now); err != nil {
			return fmt.Errorf("store oauth1 credential: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: actor, Action: "oauth1.credential.issue", Resource: "user",
			ResourceID: userID.String(), Outcome: audit.Success, At: now, Details: map[string]any{"credential_id": c.ID.String()}})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// RevokeOAuth1 revokes a credential: its next request is refused.
func (s *Server) RevokeOAuth1(ctx context.Context, id uuid.UUID, actor *uuid.UUID) error {
	now := s.now()
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var userID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE oauth1_credentials SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING user_id`, id, now).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: actor, Action: "oauth1.credential.revoke", Resource: "user",
			ResourceID: userID.String(), Outcome: audit.Success, At: now, Details: map[string]any{"credential_id": id.String()}})
	})
}

// OAuth1Middleware authenticates requests whose Authorization header uses
// the OAuth scheme (RFC 5849 §3.5.1): HMAC-SHA1 signature over the
// request's method, URI and parameters (query, header and form body),
// timestamp within OAuth1Window, nonce never seen before for the
// credential. A verified request goes on as the credential's user, as if
// it carried a bearer token for it (auth.Preauthenticated); a refused one
// gets 401. Other requests pass through untouched.
func (s *Server) OAuth1Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "OAuth") {
			next.ServeHTTP(w, r)
			return
		}
		userID, key, err := s.verifyOAuth1(r)
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				if db.IsUnavailable(err) {
					err = apierr.Wrap(err, http.StatusServiceUnavailable, apierr.CodeUnavailable, "The service is temporarily unavailable. Please retry shortly.")
				} else {
					err = apierr.Wrap(fmt.Errorf("oauth1: %w", err), http.StatusUnauthorized, apierr.CodeUnauthorized,
						"The request's OAuth 1.0 signature, timestamp, nonce or credentials are not valid.")
				}
			}
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`OAuth realm=%q`, s.issuer))
			}
			server.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, auth.Preauthenticated(r, userID, key))
	})
}

// parseOAuthHeader reads the parameters of an OAuth Authorization header
// (RFC 5849 §3.5.1): comma-separated name="value" pairs, percent-encoded.
func parseOAuthHeader(h string) (map[string]string, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "OAuth") {
		return nil, errors.New("not the OAuth scheme")
	}
	out := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, quoted, ok := strings.Cut(part, "=")
		if !ok || len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
			return nil, fmt.Errorf("malformed parameter %q", name)
		}
		n, err1 := url.PathUnescape(strings.TrimSpace(name))
		v, err2 := url.PathUnescape(quoted[1 : len(quoted)-1])
		if err1 != nil || err2 != nil {
			return nil, errors.New("bad percent-encoding")
		}
		if _, dup := out[n]; dup {
			return nil, fmt.Errorf("parameter %q repeated", n)
		}
		out[n] = v
	}
	return out, nil
}

// percentEncode is RFC 5849 §3.6: every byte but ALPHA, DIGIT, '-', '.',
// '_' and '~' as %XX with upper-case hex.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// signatureBaseString is RFC 5849 §3.4.1: the method, the base string URI
// and the normalized parameters (each pair encoded, sorted by name then
// value, joined), each encoded and joined by '&'.
func signatureBaseString(method, baseURI string, params [][2]string) string {
	enc := make([][2]string, len(params))
	for i, p := range params {
		enc[i] = [2]string{percentEncode(p[0]), percentEncode(p[1])}
	}
	slices.SortFunc(enc, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	pairs := make([]string, len(enc))
	for i, p := range enc {
		pairs[i] = p[0] + "=" + p[1]
	}
	return strings.ToUpper(method) + "&" + percentEncode(baseURI) + "&" + percentEncode(strings.Join(pairs, "&"))
}

// baseStringURI is RFC 5849 §3.4.1.2 for a request to this server: the
// scheme and authority of the issuer (the public URL clients sign, never
// the Host header) and the request's path.
func (s *Server) baseStringURI(r *http.Request) string {
	u, err := url.Parse(s.issuer)
	if err != nil {
		return ""
	}
	host := strings.ToLower(u.Host)
	if u.Scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	} else if u.Scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	}
	return strings.ToLower(u.Scheme) + "://" + host + r.URL.EscapedPath()
}

// requestParams collects the parameters a signature covers (RFC 5849
// §3.4.1.3.1): the query, the Authorization header's oauth_* parameters
// except oauth_signature (and realm), and a form-encoded body, which is
// read and put back.
func requestParams(r *http.Request, header map[string]string) ([][2]string, error) {
	var params [][2]string
	add := func(raw string) error {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return err
		}
		for k, vs := range q {
			for _, v := range vs {
				params = append(params, [2]string{k, v})
			}
		}
		return nil
	}
	if err := add(r.URL.RawQuery); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	for k, v := range header {
		if k != "realm" && k != "oauth_signature" {
			params = append(params, [2]string{k, v})
		}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := add(string(body)); err != nil {
			return nil, fmt.Errorf("form body: %w", err)
		}
	}
	return params, nil
}

// hmacSHA1 is RFC 5849 §3.4.2: the key is the encoded consumer secret and
// token secret joined by '&'.
func hmacSHA1(base, consumerSecret, tokenSecret string) []byte {
	m := hmac.New(sha1.New, []byte(percentEncode(consumerSecret)+"&"+percentEncode(tokenSecret)))
	m.Write([]byte(base))
	return m.Sum(nil)
}

var errOAuth1 = errors.New("invalid oauth1 request")

// verifyOAuth1 checks a signed request and returns the credential's user
// and consumer key.
func (s *Server) verifyOAuth1(r *http.Request) (uuid.UUID, string, error) {
	ctx := r.Context()
	h, err := parseOAuthHeader(r.Header.Get("Authorization"))
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("%w: header: %w", errOAuth1, err)
	}
	for _, p := range []string{"oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_signature"} {
		if h[p] == "" {
			return uuid.Nil, "", fmt.Errorf("%w: %s missing", errOAuth1, p)
		}
	}
	if h["oauth_signature_method"] != "HMAC-SHA1" {
		return uuid.Nil, "", fmt.Errorf("%w: signature method %q", errOAuth1, h["oauth_signature_method"])
	}
	if v, ok := h["oauth_version"]; ok && v != "1.0" {
		return uuid.Nil, "", fmt.Errorf("%w: version %q", errOAuth1, v)
	}
	ts, err := strconv.ParseInt(h["oauth_timestamp"], 10, 64)
	now := s.now()
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > OAuth1Window {
		return uuid.Nil, "", fmt.Errorf("%w: timestamp outside the window", errOAuth1)
	}
	if len(h["oauth_nonce"]) > 128 {
		return uuid.Nil, "", fmt.Errorf("%w: nonce too long", errOAuth1)
	}
	sig, err := base64.StdEncoding.DecodeString(h["oauth_signature"])
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("%w: signature encoding", errOAuth1)
	}
	var (
		id, userID uuid.UUID
		enc        []byte
	)
	err = db.QueryRow(ctx, s.pool, `SELECT id, user_id, secrets_enc FROM oauth1_credentials
		WHERE consumer_key = $1 AND token = $2 AND revoked_at IS NULL`, h["oauth_consumer_key"], h["oauth_token"]).Scan(&id, &userID, &enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, "", fmt.Errorf("%w: unknown or revoked credentials", errOAuth1)
	}
	if err != nil {
		return uuid.Nil, "", err
	}
	sec, err := s.openOAuth1(id, enc)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("decrypt oauth1 secrets: %w", err)
	}
	params, err := requestParams(r, h)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("%w: %w", errOAuth1, err)
	}
	base := signatureBaseString(r.Method, s.baseStringURI(r), params)
	if !hmac.Equal(sig, hmacSHA1(base, sec.Consumer, sec.Token)) {
		return uuid.Nil, "", fmt.Errorf("%w: signature mismatch", errOAuth1)
	}
	// The nonce is recorded only for a valid signature, so nobody else can
	// use up a credential's nonces.
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM oauth1_nonces WHERE credential_id = $1 AND expires_at < $2`, id, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO oauth1_nonces (credential_id, nonce, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, id, h["oauth_nonce"], time.Unix(ts, 0).Add(OAuth1Window))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: nonce already used", errOAuth1)
		}
		return nil
	})
	if err != nil {
		return uuid.Nil, "", err
	}
	return userID, h["oauth_consumer_key"], nil
}

// Admin endpoints.

func (s *Server) issueOAuth1(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.permitted(r, PermCreateOAuth1)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	var body struct {
		UserID      uuid.UUID `json:"user_id"`
		Description string    `json:"description"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.UserID == uuid.Nil || len(body.Description) > 200 {
		writeAPIError(w, r, apierr.Validation("The request is invalid.",
			apierr.FieldError{Field: "/user_id", Code: "required", Message: "user_id (a user's id) is required; description has at most 200 characters."}))
		return
	}
	c, err := s.IssueOAuth1(ctx, body.UserID, body.Description, &p.UserID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listOAuth1(w http.ResponseWriter, r *http.Request) {
	ctx, _, err := s.permitted(r, PermReadOAuth1)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	rows, err := db.Query(ctx, s.pool, `SELECT id, consumer_key, token, user_id, description, created_at, revoked_at
		FROM oauth1_credentials ORDER BY created_at DESC, id`)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OAuth1Credential, error) {
		var c OAuth1Credential
		err := row.Scan(&c.ID, &c.ConsumerKey, &c.Token, &c.UserID, &c.Description, &c.CreatedAt, &c.RevokedAt)
		return c, err
	})
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if out == nil {
		out = []OAuth1Credential{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) revokeOAuth1(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.permitted(r, PermDeleteOAuth1)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		writeAPIError(w, r, apierr.ErrNotFound)
		return
	}
	if err := s.RevokeOAuth1(ctx, id, &p.UserID); err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
