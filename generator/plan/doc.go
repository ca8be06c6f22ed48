// Package plan computes what changing a project's spec does to a live
// backend, as data: typed changes (action, address such as
// model.measurement.field.arm, before and after, destructive?, breaks the
// API?, and why) between the state last applied and the state the spec
// describes now.
//
// A State is the spec reduced to blocks of attributes, read from a
// spec.Project by reflection: every exported field of a spec type becomes
// an attribute (scalars, lists of scalars) or a nested block (structs, and
// slices of structs with a Name), so a block type or attribute added to
// the spec later shows up in plans without changes here. What a change
// means (is narrowing an enum destructive? does a removed field break
// clients?) is judged per block type by a Comparer; a block type without
// one gets the generic judgement (its removal is reported, nothing is
// called destructive). Adding a block type that needs more is registering
// one Comparer.
//
// Compare is pure. The database side (data checks, drift, applying) lives
// in package live, the output in package render.
package plan
