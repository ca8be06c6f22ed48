// Package dbtest gives tests a fresh, empty PostgreSQL database.
//
// The server is found once per test binary: EXH_TEST_DATABASE_URL if set,
// else 127.0.0.1:5432 as user postgres if it answers within a second, else an
// ephemeral cluster started from the local PostgreSQL binaries
// (/usr/lib/postgresql/<highest>/bin; run as user postgres when the tests run
// as root) on a unix socket in a temporary directory. Setting
// EXH_TEST_PG_EPHEMERAL=1 forces the ephemeral cluster. When no server can be
// found the test fails (it is never skipped) with a message saying what to
// install.
//
// Every URL or New call creates database exh_test_<random> and drops it
// WITH (FORCE) at t.Cleanup. Packages using dbtest declare
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// so an ephemeral cluster is stopped when the tests finish. A watchdog
// process also stops it if the test binary dies without running Main's
// cleanup (e.g. a -timeout panic).
//
// The server lookup is the one piece of process-wide state, guarded by a
// sync.Once: it is what lets parallel tests share one cluster.
package dbtest
