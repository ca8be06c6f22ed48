package oauth

import (
	"encoding/json"
	"net/http"
)

// RFC 6749 §5.2, RFC 7009 §2.2.1 and RFC 6750 §3.1 error codes.
const (
	errInvalidRequest          = "invalid_request"
	errInvalidClient           = "invalid_client"
	errInvalidGrant            = "invalid_grant"
	errUnauthorizedClient      = "unauthorized_client"
	errUnsupportedGrantType    = "unsupported_grant_type"
	errInvalidScope            = "invalid_scope"
	errUnsupportedResponseType = "unsupported_response_type"
	errAccessDenied            = "access_denied"
	errServerError             = "server_error"
	errTemporarilyUnavailable  = "temporarily_unavailable"
	errInvalidToken            = "invalid_token"
	// errMFARequired answers a password grant for a user who must also
	// give a second factor; the body carries mfa_token for the mfa grant.
	errMFARequired = "mfa_required"
)

// Error is an OAuth2 error response (RFC 6749 §5.2).
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	// MFAToken is set with the mfa_required error.
	MFAToken string `json:"mfa_token,omitempty"`
	// basic is set when the client tried HTTP Basic authentication: a 401
	// then carries a Basic challenge (RFC 6749 §5.2).
	basic bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code, desc string) *Error {
	return &Error{Status: status, Code: code, Description: desc}
}

func badRequest(code, desc string) *Error { return oauthErr(http.StatusBadRequest, code, desc) }

// writeJSON writes v with the no-store headers token responses need
// (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized && e.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth"`)
	}
	writeJSON(w, e.Status, e)
}
