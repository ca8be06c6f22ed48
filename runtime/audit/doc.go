// Package audit writes the append-only audit trail (AUD-1, AUD-3): who did
// what to which resource, when, from where and with which outcome.
//
// Rows are written with Write in the transaction of the change they
// describe, so the change and its audit row commit together or not at all
// (AUD-5); an audit row for a refused action (a failed login, a denied
// read) is written in a transaction of its own that commits although the
// action fails. The table refuses UPDATE, DELETE and TRUNCATE by trigger.
// Rows never hold passwords, tokens, one-time codes or document bodies
// (AUD-2): callers put only ids and stable reason codes in them.
package audit
