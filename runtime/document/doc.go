// Package document is the generic document service every generated backend
// calls: create, get, list, update (JSON merge patch) and delete of the
// documents of a project's models.
//
// The generated glue passes ogen request types as json.Marshaler values and
// ogen response types as json.Unmarshaler outputs, so the service never
// maps fields one by one:
//
//   - Writes marshal the request, decode it strictly (valid UTF-8, no
//     duplicate keys, no U+0000, nesting ≤ 64: IN-2, IN-3), apply top-level
//     defaults, validate against the model's JSON Schema (draft 2020-12,
//     format assertions on: IN-1; dates and date-times must also have a
//     year in 1..9999, which PostgreSQL stores and responses print) and
//     hand the JSON to PostgreSQL as one jsonb bind parameter from which the
//     statement fills the typed columns.
//   - Reads (and the RETURNING clause of writes) let PostgreSQL build the
//     response document with json_build_object in one text column, which is
//     fed to the output's UnmarshalJSON.
//
// Every model's SQL is built once by New; values are always bind parameters
// and identifiers are quoted with pgx.Identifier.
//
// Access: each action of a model (create, read, update, delete, link,
// unlink) lists rules (project.Access): all_users, creator, linked_users,
// permission (the caller holds data:<model>:<action>, matched by
// permission.Match), linked_group_staff (the caller is staff of a group in
// group_ids whose group roles there hold data:<model>:<action>) and
// linked_group_patients (the caller is an unexpired patient of a group in
// group_ids). Rules read only server-owned fields, never data (AC-5).
// Deny by default; a rule list that cannot be evaluated denies everybody
// (AC-1). Single-document reads, updates, deletes and links the caller may
// not perform answer 404 (AC-2); they also take read access, as the answer
// would otherwise confirm or show the document. Lists filter in SQL so rows
// and total only count readable documents; the access condition (built per
// caller by accessCond, values as bind parameters: user_ids @> ARRAY[$n],
// group_ids && $n, which the GIN indexes serve) is ANDed into the
// statement's WHERE clause, so other conditions compose with it. A denied
// create is 403. Every refusal of an existing document writes an
// access.denied audit row (AUD-1). Server-owned fields (id, creator_id,
// user_ids, group_ids, status, timestamps, version) are never read from a
// body (AC-3): bodies are the model's data, validated with
// additionalProperties false. Writes check the rules against the old and the
// new state (AC-4). Models with group_sync = creator_patient_groups get their
// creator's patient groups at create (read from the database, not the
// cached Principal); runtime/group keeps them in line afterwards.
//
// A patch that changes no stored value (compared by PostgreSQL, so 1.0 and 1
// or two spellings of one instant in a top-level date-time field are the
// same) writes nothing: no new version, the same updated_at. Values inside
// object and array fields are stored as sent (jsonb), so a date-time there
// spelled differently counts as a change, and keeps its full precision
// where a top-level one is rounded to microseconds.
//
// Concurrency: Update and Delete accept an If-Match version; a stale one is
// 412 precondition_failed (AUD-5). Updates lock the row (SELECT … FOR
// UPDATE) so concurrent updates with the same If-Match have exactly one
// winner. Results are returned only after COMMIT (DUR-1).
package document
