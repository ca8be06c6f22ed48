// Package render writes a plan.Plan for people, as terraform writes its
// plans (a legend of the symbols used, one commented header per changed
// block, aligned `old -> new`, hidden unchanged counts, the closing
// `Plan: X to add, Y to change, Z to destroy.`), and as JSON from the same
// data.
package render
