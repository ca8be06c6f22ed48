package generator

import (
	"github.com/exhgen/exhgen/spec"
)

// schemaMode selects the dialect a field schema is written in.
type schemaMode int

const (
	// modeJSONSchema is JSON Schema 2020-12, as the runtime validates.
	modeJSONSchema schemaMode = iota
	// modeOpenAPI is an OpenAPI 3.0 schema object for a create body or response.
	modeOpenAPI
	// modePatch is an OpenAPI 3.0 schema for a JSON merge patch (RFC 7396):
	// objects are merged member by member at every level, so nothing is
	// required and optional members are nullable (null removes them);
	// arrays are replaced whole, so their items are complete values. The
	// runtime validates the merged document in full.
	modePatch
)

// jsonSchema is the JSON Schema every write of m's data is validated against.
func jsonSchema(m *spec.Model) map[string]any {
	s := objectSchema(m.Fields, modeJSONSchema)
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	if m.Description != "" {
		s["description"] = m.Description
	}
	return s
}

// objectSchema describes an object with the given fields.
func objectSchema(fields []*spec.Field, mode schemaMode) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fields {
		fs := fieldSchema(f, mode)
		if mode == modePatch && !f.Required {
			fs["nullable"] = true
		}
		props[f.Name] = fs
		if f.Required && mode != modePatch {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// fieldSchema describes one field's value.
func fieldSchema(f *spec.Field, mode schemaMode) map[string]any {
	var s map[string]any
	switch f.Type {
	case spec.TypeObject:
		s = objectSchema(f.Fields, mode)
	case spec.TypeArray:
		s = map[string]any{"type": "array"}
		if f.Items != nil {
			sub := mode
			if sub == modePatch {
				sub = modeOpenAPI
			}
			s["items"] = fieldSchema(f.Items, sub)
		}
		if f.MinItems != nil {
			s["minItems"] = *f.MinItems
		}
		if f.MaxItems != nil {
			s["maxItems"] = *f.MaxItems
		}
	case spec.TypeInteger:
		s = map[string]any{"type": "integer", "format": "int64"}
		if mode == modeJSONSchema {
			delete(s, "format")
		}
	case spec.TypeNumber:
		s = map[string]any{"type": "number", "format": "double"}
		if mode == modeJSONSchema {
			delete(s, "format")
		}
	case spec.TypeBoolean:
		s = map[string]any{"type": "boolean"}
	case spec.TypeDateTime:
		s = dateTimeSchema(mode != modeJSONSchema)
	case spec.TypeDate:
		s = map[string]any{"type": "string", "format": "date"}
	case spec.TypeUUID:
		s = map[string]any{"type": "string", "format": "uuid"}
	case spec.TypeEmail:
		s = map[string]any{"type": "string", "format": "email"}
	default:
		s = map[string]any{"type": "string"}
	}
	if f.Description != "" {
		s["description"] = f.Description
	}
	if len(f.Enum) > 0 {
		s["enum"] = f.Enum
	}
	if f.Minimum != nil {
		s["minimum"] = number(*f.Minimum, f.Type)
	}
	if f.Maximum != nil {
		s["maximum"] = number(*f.Maximum, f.Type)
	}
	if f.MinLength != nil {
		s["minLength"] = *f.MinLength
	}
	if f.MaxLength != nil {
		s["maxLength"] = *f.MaxLength
	}
	if f.Pattern != "" {
		s["pattern"] = f.Pattern
	}
	// A required field's default only backfills stored documents (see
	// spec.Field.Default): clients must send the field.
	if f.Default != nil && mode != modePatch && !f.Required {
		s["default"] = f.Default
	}
	return s
}

// number keeps integer bounds integral in the output ("300", not "300.0").
func number(v float64, t spec.FieldType) any {
	if t == spec.TypeInteger && v == float64(int64(v)) {
		return int64(v)
	}
	return v
}

// ogenTimeFormat makes ogen (our generated server and client, and any ogen
// client a customer generates from the published document) keep fractions
// of a second: by default it writes date-times with time.RFC3339, which has
// none, so a reading taken at 08:30:00.123 would be stored at 08:30:00.
const ogenTimeFormat = "2006-01-02T15:04:05.999999999Z07:00"

// dateTimeSchema is a date-time string; in OpenAPI documents it carries
// ogen's time format extension.
func dateTimeSchema(openAPI bool) map[string]any {
	s := map[string]any{"type": "string", "format": "date-time"}
	if openAPI {
		s["x-ogen-time-format"] = ogenTimeFormat
	}
	return s
}
