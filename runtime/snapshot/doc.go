// Package snapshot records, in the database, the schema snapshot each
// `exhgen apply` brought it to (table exh_applied_snapshot, core migration
// core/0030_applied_snapshot.sql), and reads the latest one back: the base
// `exhgen plan` compares a spec with when DATABASE_URL is set. Staging and
// production at different points each answer for themselves.
//
// The snapshot is opaque JSON here (the generator's migrations/schema.json);
// this package only stores and returns it.
package snapshot
