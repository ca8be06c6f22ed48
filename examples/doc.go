// Package examples holds complete customer projects (one directory each,
// with its committed generated backend) and the end-to-end test that
// regenerates, builds, starts and drives them as a customer would.
package examples
