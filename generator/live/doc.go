// Package live is the database side of a plan: it runs the data checks of
// a plan.Plan (how many stored documents would violate each tightened
// field, with a few example ids), compares the live schema of the data_*
// tables with the snapshot (drift), and fingerprints the database state a
// saved plan is bound to.
package live
