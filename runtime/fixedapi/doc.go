// Package fixedapi serves the fixed identity endpoints every backend has:
// POST /auth/register, POST /auth/login, GET /auth/jwks.json (also at
// /.well-known/jwks.json) and GET /users/me.
//
// openapi.yaml is their OpenAPI fragment (Fragment returns it for merging
// into the published document); package oas is the ogen server and client
// generated from it and committed (`go generate ./runtime/fixedapi`; a test
// fails when it is stale). The handlers are thin: they translate between
// oas types and the user and auth services, and every error leaves through
// NewError as the shared Error schema.
package fixedapi
