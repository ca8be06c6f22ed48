// Package oasgen generates the ogen server and client of an OpenAPI
// document in memory, with the options the committed runtime code uses: no
// OpenTelemetry, no webhooks, server and client, convenient errors forced
// (generation fails unless every operation shares one default Error
// response). Used by the go:generate program and by the staleness test.
package oasgen
