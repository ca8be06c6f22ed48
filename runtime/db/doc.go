// Package db opens the runtime's PostgreSQL pool, runs transactions and
// applies SQL migrations.
//
// Open builds a bounded pgxpool whose sessions carry statement_timeout and
// idle_in_transaction_session_timeout (SECURITY.md AV-3). InTx runs a function
// in a transaction, bounding the wait for a pooled connection so a saturated
// pool answers 503 instead of queueing forever (AV-2). Migrate applies
// migrations exactly once, in order, each in its own transaction, under a
// PostgreSQL advisory lock so concurrent processes can start together.
//
// Tests use the real database through package dbtest.
package db
