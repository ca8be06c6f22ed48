package generator

import "strings"

// goName turns a snake_case spec name into the exported Go/OpenAPI name
// ("patient_profile" → "PatientProfile"), the same way ogen names schemas.
func goName(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	return b.String()
}

// lowerFirst turns "PatientProfile" into "patientProfile" (operation ids).
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// tableName is the SQL table a model is stored in.
func tableName(model string) string { return TableName(model) }

// TableName is the table holding a model's documents.
func TableName(model string) string { return "data_" + model }

// humanName turns "patient_profile" into "patient profile" for summaries.
func humanName(s string) string { return strings.ReplaceAll(s, "_", " ") }
