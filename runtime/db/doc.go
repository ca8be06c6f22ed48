// Package db opens the runtime's PostgreSQL pool, runs transactions and
// applies SQL migrations.
//
// Open builds a bounded pgxpool whose sessions carry statement_timeout and
// idle_in_transaction_session_timeout (SECURITY.md AV-3). Acquire bounds the
// wait for a pooled connection (DefaultAcquireTimeout, or WithAcquireTimeout)
// so a saturated pool answers 503 instead of queueing until the statement
// timeout (AV-2); every use of the pool goes through it: InTx runs a
// function in a transaction, and Exec, Query and QueryRow replace the
// pool's own methods of the same names. IsUnavailable tells a database that
// cannot serve right now (pool exhausted or closed, connection refused or
// lost, server shutting down, deadline) from a failing query. Migrate applies
// migrations exactly once, in order, each in its own transaction (or, marked
// with NoTransactionHeader, statement by statement outside one), under a
// PostgreSQL advisory lock so concurrent processes can start together;
// MigrateWith can run them in one transaction and check, under the lock,
// that nothing moved since a plan was made.
//
// Tests use the real database through package dbtest.
package db
