// Package app is the entry point of every generated backend: it reads the
// configuration from the environment, opens the database, applies
// migrations and wires the runtime services to the generated API. A
// generated main.go is one call to Main.
package app
