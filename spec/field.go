package spec

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// fieldSchema is the body of a `field` block.
var fieldSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type", Required: true},
		{Name: "description"},
		{Name: "required"},
		{Name: "indexed"},
		{Name: "minimum"},
		{Name: "maximum"},
		{Name: "min_length"},
		{Name: "max_length"},
		{Name: "pattern"},
		{Name: "enum"},
		{Name: "default"},
		{Name: "min_items"},
		{Name: "max_items"},
		{Name: "renamed_from"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "field", LabelNames: []string{"name"}},
		{Type: "items"},
	},
}

// itemsSchema is the body of an array's `items` block: a field without a
// name, and without what only applies to a document's own fields.
var itemsSchema = &hcl.BodySchema{
	Attributes: slices.DeleteFunc(slices.Clone(fieldSchema.Attributes), func(a hcl.AttributeSchema) bool {
		return a.Name == "required" || a.Name == "indexed" || a.Name == "default" || a.Name == "renamed_from"
	}),
	Blocks: fieldSchema.Blocks,
}

// maxFieldDepth bounds how deeply fields nest (objects and arrays each
// count as a level).
const maxFieldDepth = 10

// maxSafeInteger is the largest integer a float64 (and so a JSON number in
// most clients) holds exactly.
const maxSafeInteger = 1<<53 - 1

// typeAliases maps names people try for a type to the type they mean.
var typeAliases = map[string]FieldType{
	"int": TypeInteger, "int64": TypeInteger, "bigint": TypeInteger, "long": TypeInteger,
	"float": TypeNumber, "double": TypeNumber, "decimal": TypeNumber, "numeric": TypeNumber,
	"bool": TypeBoolean, "str": TypeString, "text": TypeString,
	"timestamp": TypeDateTime, "date-time": TypeDateTime, "date_time": TypeDateTime, "time": TypeDateTime,
	"map": TypeObject, "list": TypeArray,
}

// decodeFieldBlocks decodes the `field` blocks of one level (a model or an
// object field) at the given depth (1 for a model's own fields).
func decodeFieldBlocks(blocks []*hcl.Block, depth int) ([]*Field, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var fields []*Field
	for _, b := range blocks {
		f, d := decodeFieldBlock(b, depth)
		diags = append(diags, d...)
		if i := slices.IndexFunc(fields, func(prev *Field) bool { return prev.Name == f.Name }); i >= 0 {
			diags = append(diags, duplicateDiag("field", f.Name, b.LabelRanges[0], fields[i].DeclRange))
			continue
		}
		if i := slices.IndexFunc(fields, func(prev *Field) bool { return goName(prev.Name) == goName(f.Name) }); i >= 0 {
			diags = append(diags, sameGoNameDiag("field", f.Name, fields[i].Name, b.LabelRanges[0], fields[i].DeclRange))
			continue
		}
		if slices.Contains(ogenMethodFields, f.Name) {
			diags = append(diags, errorDiag(b.LabelRanges[0], "Reserved field name",
				fmt.Sprintf("The field name %s is reserved because the generated Go types have a method of that name; choose another name.", quote(f.Name))))
			continue
		}
		// ogen gives every field X accessors GetX and SetX.
		if i := slices.IndexFunc(fields, func(prev *Field) bool {
			return accessorClash(prev.Name, f.Name) || accessorClash(f.Name, prev.Name)
		}); i >= 0 {
			diags = append(diags, sameGoNameDiag("field", f.Name, fields[i].Name, b.LabelRanges[0], fields[i].DeclRange))
			continue
		}
		fields = append(fields, f)
	}
	diags = append(diags, checkRenames("field", fields, func(f *Field) (string, string, hcl.Range) {
		return f.Name, f.RenamedFrom, f.renamedFromRange
	})...)
	return fields, diags
}

// decodeFieldBlock decodes a `field` block.
func decodeFieldBlock(block *hcl.Block, depth int) (*Field, hcl.Diagnostics) {
	f := &Field{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := fieldNameRule.check(f.Name, block.LabelRanges[0], depth == 1)
	diags = append(diags, decodeFieldBody(f, block, fieldSchema, depth)...)
	return f, diags
}

// decodeItemsBlock decodes an array's `items` block.
func decodeItemsBlock(block *hcl.Block, depth int) (*Field, hcl.Diagnostics) {
	f := &Field{DeclRange: block.DefRange}
	return f, decodeFieldBody(f, block, itemsSchema, depth)
}

// fieldAttrs holds a field body's decoded constraint attributes.
type fieldAttrs struct {
	attrs                     hcl.Attributes
	minimum, maximum          *float64
	minLength, maxLength      *int
	minItems, maxItems        *int
	pattern                   *regexp.Regexp
	patternText               string
	enum                      []string
	enumRanges                []hcl.Range
	indexed, required, enumOK bool
}

// decodeFieldBody decodes the body shared by `field` and `items` blocks into f.
func decodeFieldBody(f *Field, block *hcl.Block, schema *hcl.BodySchema, depth int) hcl.Diagnostics {
	content, diags := bodyContent(block.Body, schema)
	fa := &fieldAttrs{attrs: content.Attributes}
	attrs := content.Attributes

	typeOK := false
	if a := attrs["type"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		diags = append(diags, requireAttr(a, ok || d.HasErrors())...)
		if ok {
			if slices.Contains(FieldTypes, FieldType(s)) {
				f.Type, typeOK = FieldType(s), true
			} else {
				diags = append(diags, unknownTypeDiag(a, s))
			}
		}
	}
	if a := attrs["description"]; a != nil {
		s, _, d := decodeString(a)
		diags = append(diags, d...)
		f.Description = s
	}
	if a := attrs["renamed_from"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			// A nested field's renamed_from renames its key in the stored
			// JSON documents (items have no name and cannot be renamed).
			if d := fieldNameRule.check(s, a.Expr.Range(), false); d.HasErrors() {
				diags = append(diags, d...)
			} else {
				f.RenamedFrom, f.renamedFromRange = s, a.Expr.Range()
			}
		}
	}
	if a := attrs["required"]; a != nil {
		b, _, d := decodeBool(a)
		diags = append(diags, d...)
		f.Required, fa.required = b, b
	}
	if a := attrs["indexed"]; a != nil {
		b, _, d := decodeBool(a)
		diags = append(diags, d...)
		fa.indexed = b
	}
	for _, n := range []struct {
		name string
		dst  **float64
	}{{"minimum", &fa.minimum}, {"maximum", &fa.maximum}} {
		if a := attrs[n.name]; a != nil {
			v, ok, d := decodeNumber(a)
			diags = append(diags, d...)
			if ok {
				*n.dst = &v
			}
		}
	}
	for _, n := range []struct {
		name string
		dst  **int
	}{{"min_length", &fa.minLength}, {"max_length", &fa.maxLength}, {"min_items", &fa.minItems}, {"max_items", &fa.maxItems}} {
		if a := attrs[n.name]; a != nil {
			v, ok, d := decodeCount(a)
			diags = append(diags, d...)
			if ok {
				*n.dst = &v
			}
		}
	}
	if a := attrs["pattern"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			re, d := checkPattern(a, s)
			diags = append(diags, d...)
			if re != nil {
				fa.patternText, fa.pattern = s, re
			}
		}
	}
	if a := attrs["enum"]; a != nil {
		list, ranges, ok, d := decodeStringList(a, false)
		diags = append(diags, d...)
		fa.enum, fa.enumRanges, fa.enumOK = list, ranges, ok
	}

	if typeOK {
		diags = append(diags, fa.apply(f, depth)...)
	}
	diags = append(diags, decodeNested(f, block.Body, content.Blocks, depth, typeOK)...)
	return diags
}

// unknownTypeDiag reports a type name that is not a FieldType.
func unknownTypeDiag(a *hcl.Attribute, s string) *hcl.Diagnostic {
	names := make([]string, len(FieldTypes))
	for i, t := range FieldTypes {
		names[i] = string(t)
	}
	detail := unknownDetail(s, "a field type", names)
	if t, ok := typeAliases[s]; ok {
		detail = fmt.Sprintf("%s is not a field type. Did you mean %q?", quote(s), t)
	}
	return errorDiag(a.Expr.Range(), "Unknown field type", detail)
}

// unknownDetail says that given is not what, suggesting the nearest of
// candidates or else listing them.
func unknownDetail(given, what string, candidates []string) string {
	if s := suggest(given, candidates); s != "" {
		return fmt.Sprintf("%s is not %s. Did you mean %q?", quote(given), what, s)
	}
	return fmt.Sprintf("%s is not %s: use %s.", quote(given), what, quotedList(candidates))
}

// Which types each constraint applies to.
var constraintTypes = map[string][]FieldType{
	"minimum":    {TypeInteger, TypeNumber},
	"maximum":    {TypeInteger, TypeNumber},
	"min_length": {TypeString, TypeEmail},
	"max_length": {TypeString, TypeEmail},
	"pattern":    {TypeString},
	"enum":       {TypeString},
	"min_items":  {TypeArray},
	"max_items":  {TypeArray},
}

// constraintOrder is the order apply checks constraints in.
var constraintOrder = []string{"minimum", "maximum", "min_length", "max_length", "pattern", "enum", "min_items", "max_items"}

// apply checks the decoded attributes against f.Type (which is valid) and
// sets the ones that fit on f.
func (fa *fieldAttrs) apply(f *Field, depth int) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := fa.attrs
	fits := make(map[string]bool)
	for _, name := range constraintOrder {
		a := attrs[name]
		if a == nil {
			continue
		}
		types := constraintTypes[name]
		if slices.Contains(types, f.Type) {
			fits[name] = true
			continue
		}
		names := make([]string, len(types))
		for i, t := range types {
			names[i] = string(t)
		}
		diags = append(diags, errorDiag(a.NameRange, "Constraint does not apply to type",
			fmt.Sprintf("%q applies only to %s fields, and this field is of type %q.", name, quotedList(names), f.Type)))
	}

	if fits["minimum"] {
		f.Minimum = fa.minimum
	}
	if fits["maximum"] {
		f.Maximum = fa.maximum
	}
	if f.Type == TypeInteger {
		for _, name := range []string{"minimum", "maximum"} {
			p := &f.Minimum
			if name == "maximum" {
				p = &f.Maximum
			}
			if *p == nil {
				continue
			}
			v, rng := **p, attrs[name].Expr.Range()
			switch {
			case v > maxSafeInteger || v < -maxSafeInteger:
				diags = append(diags, errorDiag(rng, "Value out of range",
					fmt.Sprintf("The %s of an integer field must be between %d and %d.", name, -maxSafeInteger, maxSafeInteger)))
				*p = nil
			case v != math.Trunc(v):
				diags = append(diags, errorDiag(rng, "Whole number required",
					fmt.Sprintf("The %s of an integer field must be a whole number, not %s.", name, formatFloat(v))))
				*p = nil
			}
		}
	}
	if f.Minimum != nil && f.Maximum != nil && *f.Minimum > *f.Maximum {
		diags = append(diags, errorDiag(attrs["minimum"].Expr.Range(), "Invalid bounds",
			fmt.Sprintf("minimum (%s) is greater than maximum (%s), so no value would be valid.", formatFloat(*f.Minimum), formatFloat(*f.Maximum))))
	}
	if fits["min_length"] {
		f.MinLength = fa.minLength
	}
	if fits["max_length"] {
		f.MaxLength = fa.maxLength
	}
	diags = append(diags, checkCountBounds(attrs, "min_length", "max_length", f.MinLength, f.MaxLength)...)
	if fits["min_items"] {
		f.MinItems = fa.minItems
	}
	if fits["max_items"] {
		f.MaxItems = fa.maxItems
	}
	diags = append(diags, checkCountBounds(attrs, "min_items", "max_items", f.MinItems, f.MaxItems)...)
	if fits["pattern"] {
		f.Pattern = fa.patternText
	} else {
		fa.pattern = nil
	}
	if fits["enum"] && fa.enumOK {
		diags = append(diags, fa.checkEnum(f)...)
	}

	if fa.indexed {
		a := attrs["indexed"]
		switch {
		case depth > 1:
			diags = append(diags, errorDiag(a.NameRange, "Field cannot be indexed",
				"Only a model's own fields can be indexed, not fields nested in an object or array."))
		case f.Type == TypeObject || f.Type == TypeArray:
			diags = append(diags, errorDiag(a.NameRange, "Field cannot be indexed",
				fmt.Sprintf("Only fields of a scalar type can be indexed, and this field is of type %q.", f.Type)))
		default:
			f.Indexed = true
		}
	}

	if a := attrs["default"]; a != nil {
		diags = append(diags, fa.checkDefault(f, a)...)
	}
	return diags
}

// checkCountBounds reports a lower bound above its upper bound.
func checkCountBounds(attrs hcl.Attributes, minName, maxName string, lo, hi *int) hcl.Diagnostics {
	if lo == nil || hi == nil || *lo <= *hi {
		return nil
	}
	return hcl.Diagnostics{errorDiag(attrs[minName].Expr.Range(), "Invalid bounds",
		fmt.Sprintf("%s (%d) is greater than %s (%d), so no value would be valid.", minName, *lo, maxName, *hi))}
}

// checkEnum validates the enum values and sets them on f.
func (fa *fieldAttrs) checkEnum(f *Field) hcl.Diagnostics {
	var diags hcl.Diagnostics
	a := fa.attrs["enum"]
	if len(fa.enum) == 0 {
		return hcl.Diagnostics{errorDiag(a.Expr.Range(), "Empty enum",
			"An enum lists the values a field may take, so it needs at least one; remove it to allow any string.")}
	}
	seen := make(map[string]int)
	values := make([]string, 0, len(fa.enum))
	for i, v := range fa.enum {
		rng := fa.enumRanges[i]
		if j, dup := seen[v]; dup {
			diags = append(diags, errorDiag(rng, "Duplicate enum value",
				fmt.Sprintf("The value %s is already listed at %s.", quote(v), fa.enumRanges[j].String())))
			continue
		}
		seen[v] = i
		if problem := checkString(f, fa.pattern, v); problem != "" {
			diags = append(diags, errorDiag(rng, "Invalid enum value",
				fmt.Sprintf("The enum value %s %s.", quote(v), problem)))
			continue
		}
		values = append(values, v)
	}
	f.Enum = values
	return diags
}

// checkString returns why s does not fit f's length and pattern constraints
// (as the end of a sentence), or "".
func checkString(f *Field, re *regexp.Regexp, s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case f.MinLength != nil && n < *f.MinLength:
		return fmt.Sprintf("is shorter than min_length (%d)", *f.MinLength)
	case f.MaxLength != nil && n > *f.MaxLength:
		return fmt.Sprintf("is longer than max_length (%d)", *f.MaxLength)
	case re != nil && !re.MatchString(s):
		return fmt.Sprintf("does not match the pattern %s", quote(f.Pattern))
	}
	return ""
}

// uuidRe is the textual form of a UUID (JSON Schema format "uuid").
var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkDefault validates a field's default and sets it on f.
func (fa *fieldAttrs) checkDefault(f *Field, a *hcl.Attribute) hcl.Diagnostics {
	v, ok, diags := attrValue(a)
	if !ok {
		return diags
	}
	// On a required field the default is what the documents stored before
	// the field was required get (plan and apply backfill it); clients
	// still send the field.
	if f.Type == TypeObject || f.Type == TypeArray {
		return append(diags, errorDiag(a.NameRange, "Default not supported",
			fmt.Sprintf("Only fields of a scalar type can have a default, and this field is of type %q.", f.Type)))
	}
	invalid := func(format string, args ...any) hcl.Diagnostics {
		return append(diags, errorDiag(a.Expr.Range(), "Invalid default value", fmt.Sprintf(format, args...)))
	}
	switch f.Type {
	case TypeBoolean:
		if v.Type() != cty.Bool {
			return invalid("The default of a boolean field must be true or false, not a %s.", friendly(v))
		}
		f.Default = v.True()
	case TypeInteger, TypeNumber:
		if v.Type() != cty.Number {
			return invalid("The default of a%s %s field must be a number, not a %s.", article(f.Type), f.Type, friendly(v))
		}
		n, d := numberValue(a.Expr.Range(), a.Name, v)
		if d != nil {
			return append(diags, d)
		}
		switch {
		case f.Type == TypeInteger && (n != math.Trunc(n) || n > maxSafeInteger || n < -maxSafeInteger):
			return invalid("The default of an integer field must be a whole number between %d and %d, not %s.", -maxSafeInteger, maxSafeInteger, formatFloat(n))
		case f.Minimum != nil && n < *f.Minimum:
			return invalid("The default %s is less than minimum (%s).", formatFloat(n), formatFloat(*f.Minimum))
		case f.Maximum != nil && n > *f.Maximum:
			return invalid("The default %s is greater than maximum (%s).", formatFloat(n), formatFloat(*f.Maximum))
		}
		f.Default = n
	default: // the string-based types
		if v.Type() != cty.String {
			return invalid("The default of a%s %s field must be a string, not a %s.", article(f.Type), f.Type, friendly(v))
		}
		s := v.AsString()
		if problem := checkFormat(f.Type, s); problem != "" {
			return invalid("The default %s is not %s.", quote(s), problem)
		}
		if problem := checkString(f, fa.pattern, s); problem != "" {
			return invalid("The default %s %s.", quote(s), problem)
		}
		if f.Enum != nil && !slices.Contains(f.Enum, s) {
			return invalid("The default %s is not one of the enum values.", quote(s))
		}
		f.Default = s
	}
	return diags
}

// checkFormat returns what s should be for type t (after "is not"), or "".
func checkFormat(t FieldType, s string) string {
	switch t {
	case TypeDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return `a date such as "2024-01-31"`
		}
	case TypeDateTime:
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return `an RFC 3339 date-time such as "2024-01-31T12:00:00Z"`
		}
	case TypeUUID:
		if !uuidRe.MatchString(s) {
			return `a UUID such as "123e4567-e89b-12d3-a456-426614174000"`
		}
	case TypeEmail:
		if addr, err := mail.ParseAddress(s); err != nil || addr.Address != s || addr.Name != "" {
			return `an email address such as "user@example.com"`
		}
	}
	return ""
}

func article(t FieldType) string {
	if t == TypeInteger || t == TypeEmail || t == TypeObject || t == TypeArray {
		return "n"
	}
	return ""
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// decodeNested decodes a field's nested `field` and `items` blocks. They are
// attached to f only when its type takes them; otherwise they are still
// decoded, for their own diagnostics.
func decodeNested(f *Field, body hcl.Body, blocks hcl.Blocks, depth int, typeOK bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var fieldBlocks, itemsBlocks []*hcl.Block
	for _, b := range blocks {
		switch b.Type {
		case "field":
			fieldBlocks = append(fieldBlocks, b)
		case "items":
			if len(itemsBlocks) > 0 {
				diags = append(diags, errorDiag(b.DefRange, "Duplicate items block",
					fmt.Sprintf("An items block was already declared at %s; an array has exactly one.", itemsBlocks[0].DefRange.String())))
			}
			itemsBlocks = append(itemsBlocks, b)
		}
	}
	if len(blocks) > 0 && depth >= maxFieldDepth {
		return append(diags, errorDiag(blocks[0].DefRange, "Fields nested too deeply",
			fmt.Sprintf("Fields may nest at most %d levels deep (each object and array is a level).", maxFieldDepth)))
	}

	if typeOK && f.Type != TypeObject && len(fieldBlocks) > 0 {
		diags = append(diags, errorDiag(fieldBlocks[0].DefRange, "Unexpected nested field",
			fmt.Sprintf(`Only object fields have nested fields, and this field is of type %q. Set type = "object", or move the field blocks out.`, f.Type)))
	}
	fields, d := decodeFieldBlocks(fieldBlocks, depth+1)
	diags = append(diags, d...)
	if f.Type == TypeObject {
		f.Fields = fields
		if len(fieldBlocks) == 0 && !hasBlock(body, "field") {
			diags = append(diags, errorDiag(f.DeclRange, "Missing nested fields",
				"An object field needs at least one nested field block describing its properties."))
		}
	}

	if typeOK && f.Type != TypeArray && len(itemsBlocks) > 0 {
		diags = append(diags, errorDiag(itemsBlocks[0].DefRange, "Unexpected items block",
			fmt.Sprintf(`Only array fields have an items block, and this field is of type %q. Set type = "array", or remove the items block.`, f.Type)))
	}
	if len(itemsBlocks) > 0 {
		items, d := decodeItemsBlock(itemsBlocks[0], depth+1)
		diags = append(diags, d...)
		if f.Type == TypeArray {
			f.Items = items
		}
	} else if f.Type == TypeArray && !hasBlock(body, "items") {
		diags = append(diags, errorDiag(f.DeclRange, "Missing items block",
			`An array field needs an items block describing its elements, such as: items { type = "string" }.`))
	}
	return diags
}

// hasBlock reports whether body has a block of the given type, including
// one hcl rejected (for a bad label, say): such a block is reported once,
// not again as missing.
func hasBlock(body hcl.Body, typ string) bool {
	syn, ok := body.(*hclsyntax.Body)
	if !ok {
		return false
	}
	return slices.ContainsFunc(syn.Blocks, func(b *hclsyntax.Block) bool { return b.Type == typ })
}

// accessorClash reports whether field a is named like the generated getter
// or setter of field b ("set_point" and "point").
func accessorClash(a, b string) bool {
	return a == "set_"+b || a == "get_"+b
}
