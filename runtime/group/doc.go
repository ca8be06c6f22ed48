// Package group manages groups (a clinic, a study site) and their members:
// patients enlisted with an optional end, and staff holding group roles.
//
// Every operation is guarded by a `groups:` permission held globally (a
// role) or within the group (a group role). Membership changes need the
// membership resources named (`groups:patients:*`, `groups:staff:*`):
// wildcards never grant them (runtime/permission), and nobody changes
// their own membership (AC-5). Every change and every refusal writes an
// audit row (AUD-1); changes forget the member's cached Principal, and
// documents of models with group_sync = "creator_patient_groups" follow
// their creator's enlistments in the same transaction.
//
// Loader gives runtime/auth the caller's memberships at authentication.
package group
