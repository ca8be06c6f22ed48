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
// schema says otherwise) with format assertions on (IN-1).
func compileSchema(model string, raw []byte) (*jsonschema.Schema, error) {
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
