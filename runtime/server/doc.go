// Package server is the runtime's HTTP front: an http.Server with every
// timeout set (SECURITY.md AV-1) and graceful shutdown (DUR-4), a fixed
// middleware chain, the probe routes, and the one place where errors become
// JSON responses (IN-5). An unavailable database (runtime/db.IsUnavailable)
// or a passed deadline answers 503 with Retry-After, never 500 or 401 (AV-2,
// AV-5). A request whose client went away (its context canceled) answers
// 499 client_closed_request and is logged at Debug, not as a server error.
//
// Middleware, outermost first:
//
//  1. request id: X-Request-ID is kept when it is 1–64 characters of
//     [A-Za-z0-9._:-], generated otherwise, stored in the context
//     (RequestID) and echoed in the response;
//  2. access log: one slog record per request (method, path without query,
//     status, bytes, duration, request id, remote address); never bodies,
//     queries or headers;
//  3. panic recovery: a 500 internal_error JSON response carrying the request
//     id; the panic value and stack go to the log only;
//  4. security headers: X-Content-Type-Options: nosniff, Cache-Control:
//     no-store, Referrer-Policy: no-referrer, X-Frame-Options: DENY and a
//     deny-all Content-Security-Policy (handlers may override them);
//  5. Retry-After: 1 on every 503 and 429 response that has none, including
//     those ogen writes itself;
//  6. request deadline: the request's context ends Config.RequestTimeout
//     (default 15 s, always below WriteTimeout) after the request arrived,
//     so waiting for a pooled connection, a lock or a query stops then
//     (AV-1; http.Server's WriteTimeout cancels nothing). The context's
//     error maps to 503 service_unavailable, and a handler that ran out
//     without writing anything gets that 503 from the middleware;
//  7. body limit: a Content-Length above Config.MaxBodyBytes is answered 413
//     without reading the body; other bodies are wrapped in
//     http.MaxBytesReader (IN-3);
//  8. strict JSON: a JSON body (application/json, *+json) is rejected with
//     400 unless it is valid UTF-8 holding exactly one well-formed value
//     without repeated member names, \u0000, or nesting deeper than
//     MaxJSONDepth (IN-2, IN-3). Go's and ogen's decoders accept all of
//     these silently. The check (strictjson.Check) builds no value tree:
//     it costs the body's bytes, whoever sends it. A charset parameter
//     other than utf-8, utf8 or us-ascii (any case) is refused with 415; a
//     body declared us-ascii must be ASCII.
//
// Routes: GET /livez (never touches the database), GET /readyz (calls the
// ready function; 503 when it fails), GET /openapi.json, and everything else
// to the api handler.
//
// An ogen server plugs in with
//
//	oas.NewServer(h, sec,
//		oas.WithErrorHandler(server.ErrorHandler),
//		oas.WithNotFound(server.NotFound),
//		oas.WithMethodNotAllowed(server.MethodNotAllowed))
//
// and its Handler.NewError (used for errors returned by operations and for
// security failures) builds its response from Public(ctx, err).
//
// Error details name the failing field with a JSON pointer into the body
// ("/device/serial", "/devices/1/serial"); a parameter is named
// "<in>:<name>" ("query:limit", "path:id", "header:If-Match"). Where ogen
// does not report an array index (decoding errors inside arrays), the
// pointer stops at the array and the code is invalid_item.
package server
