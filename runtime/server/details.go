package server

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ogen-go/ogen/validate"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/strictjson"
)

// Codes of apierr.FieldError details (defined in apierr, where the
// document service's validation uses them too).
const (
	DetailRequired     = apierr.DetailRequired
	DetailUnknownField = apierr.DetailUnknownField
	DetailInvalidType  = apierr.DetailInvalidType
	DetailFormat       = apierr.DetailFormat
	DetailEnum         = apierr.DetailEnum
	DetailMinimum      = apierr.DetailMinimum
	DetailMaximum      = apierr.DetailMaximum
	DetailMultipleOf   = apierr.DetailMultipleOf
	DetailMinLength    = apierr.DetailMinLength
	DetailMaxLength    = apierr.DetailMaxLength
	DetailMinItems     = apierr.DetailMinItems
	DetailMaxItems     = apierr.DetailMaxItems
	DetailUniqueItems  = apierr.DetailUniqueItems
	DetailPattern      = apierr.DetailPattern
	DetailInvalidItem  = apierr.DetailInvalidItem
	DetailInvalid      = apierr.DetailInvalid
)

// fieldDetails turns the error ogen reports for a request body into one
// detail per failing field, each named by a JSON pointer ("/device/serial",
// "/devices/1/serial"). It reads two shapes:
//
//   - *validate.Error (schema validation after decoding, and required
//     fields while decoding): Fields[i].Name is a property name or "[i]",
//     and Fields[i].Error may nest further *validate.Error values;
//   - decoding errors: go-faster/errors wrappers whose own messages are
//     `decode field "name"` per level, ending in `unexpected field "name"`
//     (additionalProperties: false) or a jx/format error. Array elements are
//     decoded without an index in the chain, so a pointer stops at the array
//     (code invalid_item).
//
// It returns nil when no field can be named (e.g. malformed JSON).
func fieldDetails(err error) []apierr.FieldError {
	var out []apierr.FieldError
	walk(err, nil, &out)
	slices.SortStableFunc(out, func(a, b apierr.FieldError) int { return cmp.Compare(a.Field, b.Field) })
	return out
}

func walk(err error, path []string, out *[]apierr.FieldError) {
	inArray := false
	afterField := false
	for e := err; e != nil; e = next(e) {
		if ve, ok := e.(*validate.Error); ok {
			if inArray {
				emitItem(path, out)
				return
			}
			for _, f := range ve.Fields {
				seg := f.Name
				if idx, ok := index(seg); ok {
					seg = idx
				}
				p := append(slices.Clip(path), seg)
				if f.Error == nil {
					*out = append(*out, detail(p, DetailInvalid, msgInvalid))
					continue
				}
				before := len(*out)
				walk(f.Error, p, out)
				if len(*out) == before { // nothing deeper was named: this field it is
					d := classify(f.Error)
					d.Field = pointer(p)
					*out = append(*out, d)
				}
			}
			return
		}
		own := ownMessage(e)
		if name, ok := quoted(own, "decode field "); ok {
			if !inArray {
				path = append(slices.Clip(path), name)
			}
			afterField = true
			continue
		}
		if own == "callback" && afterField {
			inArray = true // d.Arr callback: the element index is not reported
		}
		afterField = false
		if next(e) != nil {
			continue
		}
		// Leaf.
		if name, ok := quoted(own, "unexpected field "); ok {
			if inArray {
				emitItem(path, out)
				return
			}
			*out = append(*out, detail(append(slices.Clip(path), name), DetailUnknownField, "This field is not allowed."))
			return
		}
		if len(path) == 0 {
			return
		}
		if inArray {
			emitItem(path, out)
			return
		}
		d := classify(err)
		d.Field = pointer(path)
		*out = append(*out, d)
	}
}

func emitItem(path []string, out *[]apierr.FieldError) {
	if len(path) == 0 {
		return
	}
	*out = append(*out, detail(path, DetailInvalidItem, "An item of this array is invalid."))
}

func detail(path []string, code, msg string) apierr.FieldError {
	return apierr.FieldError{Field: pointer(path), Code: code, Message: msg}
}

// pointer renders path as a JSON pointer (RFC 6901).
func pointer(path []string) string { return strictjson.Pointer(path) }

// index turns ogen's "[3]" into "3".
func index(name string) (string, bool) {
	if len(name) < 3 || name[0] != '[' || name[len(name)-1] != ']' {
		return "", false
	}
	n := name[1 : len(name)-1]
	if _, err := strconv.Atoi(n); err != nil {
		return "", false
	}
	return n, true
}

// quoted parses `prefix"name"`.
func quoted(s, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(rest)
	if err != nil {
		return "", false
	}
	return name, true
}

// next is the error e wraps (the first one, for joined errors).
func next(e error) error {
	switch u := e.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		for _, x := range u.Unwrap() {
			if x != nil {
				return x
			}
		}
	}
	return nil
}

// ownMessage is the part of e's message that is not its wrapped error's:
// "decode field \"x\"" for errors.Wrap(inner, "decode field \"x\"").
func ownMessage(e error) string {
	msg := e.Error()
	n := next(e)
	if n == nil {
		return msg
	}
	inner := n.Error()
	if msg == inner {
		return ""
	}
	if own, ok := strings.CutSuffix(msg, ": "+inner); ok {
		return own
	}
	return msg
}

const msgInvalid = "The value is invalid."

// classify names the failure of one value. Messages are fixed text: no part
// of a Go error (which may quote the input) reaches the client.
func classify(err error) apierr.FieldError {
	var (
		minLen *validate.MinLengthError
		maxLen *validate.MaxLengthError
		regex  *validate.NoRegexMatchError
		dup    *validate.DuplicateItemsError
		tErr   *time.ParseError
		nErr   *strconv.NumError
	)
	array := false
	for e := err; e != nil; e = next(e) {
		if ownMessage(e) == "array" {
			array = true
		}
	}
	leaf := err
	for n := next(leaf); n != nil; n = next(leaf) {
		leaf = n
	}
	lm := leaf.Error()
	d := func(code, msg string) apierr.FieldError { return apierr.FieldError{Code: code, Message: msg} }
	switch {
	case errors.Is(err, validate.ErrFieldRequired):
		return d(DetailRequired, "This field is required.")
	case errors.As(err, &minLen):
		if array {
			return d(DetailMinItems, fmt.Sprintf("The array must have at least %d items.", minLen.MinLength))
		}
		return d(DetailMinLength, fmt.Sprintf("The value must be at least %d characters long.", minLen.MinLength))
	case errors.As(err, &maxLen):
		if array {
			return d(DetailMaxItems, fmt.Sprintf("The array must have at most %d items.", maxLen.MaxLength))
		}
		return d(DetailMaxLength, fmt.Sprintf("The value must be at most %d characters long.", maxLen.MaxLength))
	case errors.As(err, &regex):
		return d(DetailPattern, "The value does not match the required pattern.")
	case errors.As(err, &dup):
		return d(DetailUniqueItems, "The array contains duplicate items.")
	case errors.As(err, &tErr):
		return d(DetailFormat, "The value is not a valid date or date-time.")
	case errors.As(err, &nErr):
		return d(DetailInvalidType, "The value is not a valid number.")
	case strings.HasPrefix(lm, "invalid value"):
		return d(DetailEnum, "The value is not one of the allowed values.")
	case strings.HasPrefix(lm, "value ") && strings.Contains(lm, " less than "):
		return d(DetailMinimum, "The value is below the minimum.")
	case strings.HasPrefix(lm, "value ") && strings.Contains(lm, " greater than "):
		return d(DetailMaximum, "The value is above the maximum.")
	case strings.Contains(lm, "not multiple of"):
		return d(DetailMultipleOf, "The value is not a multiple of the required step.")
	case strings.HasPrefix(lm, "invalid UUID"), strings.HasPrefix(lm, "uuid:"):
		return d(DetailFormat, "The value is not a valid UUID.")
	case strings.HasPrefix(lm, "unexpected byte"), strings.HasPrefix(lm, "unexpected EOF"),
		strings.Contains(lm, "unexpected json type"):
		return d(DetailInvalidType, "The value has the wrong type.")
	}
	return d(DetailInvalid, msgInvalid)
}
