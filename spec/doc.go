// Package spec loads a customer's exhgen project: the *.hcl files of one
// directory, parsed with hashicorp/hcl and decoded into a [Project], the typed
// intermediate representation every generator emitter reads.
//
// Loading happens in three passes. Parsing turns each file into an
// hcl.File. Decoding walks the blocks (one decodeXBlock function and one
// package-level hcl.BodySchema per block type), evaluates every attribute as
// a literal value (variables and functions are not allowed), checks names,
// types and constraints, and keeps each declaration's hcl.Range. Linking
// resolves cross-references once everything is declared: permission strings
// against the declared models.
//
// Every problem is an hcl.Diagnostic with a terse Summary, a full-sentence
// Detail and a Subject range; loading never stops at the first one, and
// unknown names get a "Did you mean" suggestion. [Load] and [LoadFiles]
// always return a Project, possibly partial; callers check
// diags.HasErrors(). [WriteDiagnostics], [WriteDiagnosticsShort] and
// [WriteDiagnosticsJSON] render diagnostics for people, editors and tools.
//
// The language, in short:
//
//	project "clinic" {
//	  title     = "Blood pressure clinic"
//	  languages = ["en", "nl"]          # first one is the default
//	}
//
//	auth {
//	  access_token_ttl  = "15m"          # 1m..1h
//	  refresh_token_ttl = "30d"          # Go duration or whole days
//	  registration      = "open"         # open | invite | closed
//	}
//
//	role "clinician" { permissions = ["data:measurement:read", "users:read"] }
//	group_role "clinic_staff" { permissions = ["data:measurement:*"] }
//
//	model "measurement" {
//	  field "systolic" {
//	    type     = "integer"
//	    required = true
//	    minimum  = 40
//	    maximum  = 300
//	  }
//	  field "tags" {
//	    type = "array"
//	    items { type = "string" }
//	  }
//	  access {
//	    read = ["creator", "linked_users", "permission"]
//	  }
//	}
package spec
