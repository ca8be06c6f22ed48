package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/strictjson"
)

// noLoader refuses every external reference: a model's schema must be
// self-contained, and compiling one must never touch the file system or the
// network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema reference %q is not allowed", url)
}

// compileSchema compiles one model's JSON Schema (draft 2020-12 unless the
// schema says otherwise) with format assertions on (IN-1); the date and
// date-time formats are those of df.
func compileSchema(model string, raw []byte, df *dateFormats) (*jsonschema.Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("model %q has no schema", model)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("model %q: decode schema: %w", model, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	df.register(c)
	loc := "urn:exhgen:model:" + model
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("model %q: add schema: %w", model, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("model %q: compile schema: %w", model, err)
	}
	return sch, nil
}

// Years a date or date-time may have: those PostgreSQL stores (it has no
// year 0) and responses print as four digits.
const (
	minYear = 1
	maxYear = 9999
)

// dateFormats are the date and date-time formats of every model's schema:
// the validator's own RFC 3339 checks, then the year range. Without it a
// valid RFC 3339 value such as "0000-01-01" passed validation and failed in
// PostgreSQL, which could not name the field; nested values, kept in jsonb,
// were stored as given.
type dateFormats struct {
	date, dateTime *jsonschema.Schema // the validator's own format checks
}

func newDateFormats() (*dateFormats, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	compile := func(format string) (*jsonschema.Schema, error) {
		loc := "urn:exhgen:format:" + format
		if err := c.AddResource(loc, map[string]any{"type": "string", "format": format}); err != nil {
			return nil, fmt.Errorf("add %s format schema: %w", format, err)
		}
		sch, err := c.Compile(loc)
		if err != nil {
			return nil, fmt.Errorf("compile %s format schema: %w", format, err)
		}
		return sch, nil
	}
	date, err := compile("date")
	if err != nil {
		return nil, err
	}
	dateTime, err := compile("date-time")
	if err != nil {
		return nil, err
	}
	return &dateFormats{date: date, dateTime: dateTime}, nil
}

// errYearRange is what a format check returns for a year out of range; it
// never reaches a client (message builds the text from the format's name).
var errYearRange = errors.New("year out of range")

func (df *dateFormats) register(c *jsonschema.Compiler) {
	c.RegisterFormat(&jsonschema.Format{Name: "date", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil // format applies to strings only
		}
		if err := df.date.Validate(s); err != nil {
			return err
		}
		if _, ok := dateInRange(s); !ok {
			return errYearRange
		}
		return nil
	}})
	c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if err := df.dateTime.Validate(s); err != nil {
			return err
		}
		if !dateTimeInRange(s) {
			return errYearRange
		}
		return nil
	}})
}

// digits reads s[from:to] as a decimal number of exactly those digits.
func digits(s string, from, to int) (int, bool) {
	if from < 0 || to > len(s) || from >= to {
		return 0, false
	}
	n := 0
	for i := from; i < to; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// dateInRange reads the year of an RFC 3339 full-date ("2026-11-27") and
// reports whether it is within minYear..maxYear.
func dateInRange(s string) (year int, ok bool) {
	if len(s) < 10 || s[4] != '-' {
		return 0, false
	}
	y, ok := digits(s, 0, 4)
	return y, ok && y >= minYear && y <= maxYear
}

// dateTimeInRange reports whether an RFC 3339 date-time
// ("2026-11-27T08:30:00.5+01:00") has a year within minYear..maxYear both as
// written and in UTC, rounded to microseconds as PostgreSQL stores it.
// Anything not of that exact shape is out of range too.
func dateTimeInRange(s string) bool {
	y, ok := dateInRange(s)
	if !ok || len(s) < 20 || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return false
	}
	var f [5]int // month, day, hour, minute, second
	for i, at := range []int{5, 8, 11, 14, 17} {
		if f[i], ok = digits(s, at, at+2); !ok {
			return false
		}
	}
	rest := s[19:]
	micros := 0
	if strings.HasPrefix(rest, ".") {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		frac := rest[1:n] + "000000"
		micros, _ = digits(frac, 0, 6)
		if n-1 > 6 && frac[6] >= '5' {
			micros++
		}
		rest = rest[n:]
	}
	offset := 0 // minutes east of UTC
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okh := digits(rest, 1, 3)
		m, okm := digits(rest, 4, 6)
		if !okh || !okm {
			return false
		}
		offset = h*60 + m
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return false
	}
	t := time.Date(y, time.Month(f[0]), f[1], f[2], f[3], f[4], micros*1000, time.UTC).
		Add(-time.Duration(offset) * time.Minute)
	return t.Year() >= minYear && t.Year() <= maxYear
}

// validate checks data against the schema and turns the failures into a
// 400 naming each invalid field.
func validate(sch *jsonschema.Schema, data any) error {
	err := sch.Validate(data)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate document: %w", err)
	}
	var details []apierr.FieldError
	collectFieldErrors(ve, &details)
	if len(details) == 0 {
		details = append(details, apierr.FieldError{Field: "", Code: apierr.DetailInvalid, Message: "The document does not match its schema."})
	}
	sort.SliceStable(details, func(i, j int) bool { return details[i].Field < details[j].Field })
	return apierr.Validation("The document is invalid.", details...)
}

// collectFieldErrors walks the error tree down to its leaves: a leaf names
// the keyword that failed at one instance location.
func collectFieldErrors(ve *jsonschema.ValidationError, out *[]apierr.FieldError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectFieldErrors(c, out)
		}
		return
	}
	ptr := pointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, apierr.FieldError{Field: pointer(append(slices.Clone(ve.InstanceLocation), m)), Code: apierr.DetailRequired, Message: "This field is required."})
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, apierr.FieldError{Field: pointer(append(slices.Clone(ve.InstanceLocation), p)), Code: apierr.DetailUnknownField, Message: "This field is not allowed."})
		}
		return
	case *kind.Group, *kind.Schema, *kind.Reference:
		// A group without causes says nothing more specific.
		*out = append(*out, apierr.FieldError{Field: ptr, Code: apierr.DetailInvalid, Message: "The value does not match its schema."})
		return
	}
	code := apierr.DetailInvalid
	if kp := ve.ErrorKind.KeywordPath(); len(kp) > 0 {
		if c, ok := keywordCodes[kp[0]]; ok {
			code = c
		}
	}
	*out = append(*out, apierr.FieldError{Field: ptr, Code: code, Message: message(ve.ErrorKind)})
}

func pointer(tokens []string) string { return strictjson.Pointer(tokens) }

// keywordCodes maps JSON Schema keywords to the detail codes ogen's
// validation reports too, so a client sees one code whichever layer caught
// the problem.
var keywordCodes = map[string]string{
	"type":        apierr.DetailInvalidType,
	"format":      apierr.DetailFormat,
	"enum":        apierr.DetailEnum,
	"const":       apierr.DetailEnum,
	"minimum":     apierr.DetailMinimum,
	"maximum":     apierr.DetailMaximum,
	"multipleOf":  apierr.DetailMultipleOf,
	"minLength":   apierr.DetailMinLength,
	"maxLength":   apierr.DetailMaxLength,
	"minItems":    apierr.DetailMinItems,
	"maxItems":    apierr.DetailMaxItems,
	"uniqueItems": apierr.DetailUniqueItems,
	"pattern":     apierr.DetailPattern,
}

// message is a human sentence for one failed keyword. It is built from the
// keyword's parameters only, never from a Go error.
func message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("The value must be of type %s, not %s.", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		want := make([]string, 0, len(k.Want))
		for _, w := range k.Want {
			want = append(want, displayValue(w))
		}
		return "The value must be one of " + strings.Join(want, ", ") + "."
	case *kind.Const:
		return "The value must be " + displayValue(k.Want) + "."
	case *kind.Format:
		return fmt.Sprintf("The value is not a valid %s.", k.Want)
	case *kind.Minimum:
		return "The value must be at least " + ratString(k.Want) + "."
	case *kind.Maximum:
		return "The value must be at most " + ratString(k.Want) + "."
	case *kind.ExclusiveMinimum:
		return "The value must be greater than " + ratString(k.Want) + "."
	case *kind.ExclusiveMaximum:
		return "The value must be less than " + ratString(k.Want) + "."
	case *kind.MultipleOf:
		return "The value must be a multiple of " + ratString(k.Want) + "."
	case *kind.MinLength:
		return fmt.Sprintf("The value must be at least %d characters long.", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("The value must be at most %d characters long.", k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("The value must match the pattern %q.", k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("The array must have at least %d items.", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("The array must have at most %d items.", k.Want)
	case *kind.UniqueItems:
		return "The array items must be unique."
	case *kind.MinProperties:
		return fmt.Sprintf("The object must have at least %d fields.", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("The object must have at most %d fields.", k.Want)
	case *kind.FalseSchema:
		return "This value is not allowed."
	default:
		return "The value does not match its schema."
	}
}

// displayValue renders a schema value (never a request value) as JSON.
func displayValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmt.Sprintf("%v", f)
}
