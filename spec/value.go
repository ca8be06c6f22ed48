package spec

import (
	"fmt"
	"math"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Attribute values are literals: they are evaluated with a nil EvalContext,
// so hcl itself reports any variable or function call. A null value means
// the attribute is not set, as in terraform.

// attrValue evaluates attr. ok is false when the attribute is absent or null,
// or its value could not be computed (diags then says why).
func attrValue(attr *hcl.Attribute) (v cty.Value, ok bool, diags hcl.Diagnostics) {
	if attr == nil {
		return cty.NilVal, false, nil
	}
	if d := checkNumberLiterals(attr.Expr); d != nil {
		return cty.NilVal, false, hcl.Diagnostics{d}
	}
	v, diags = attr.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, false, diags
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, false, append(diags, typeDiag(attr, "a literal value", v))
	}
	if v.IsNull() {
		return cty.NilVal, false, diags
	}
	v, _ = v.Unmark()
	return v, true, diags
}

// maxBinaryExponent bounds the binary exponent of number literals: a
// float64 holds about 2^±1024, and converting numbers far beyond that to
// text (in a template, say) takes time quadratic in the exponent.
const maxBinaryExponent = 1100

// checkNumberLiterals reports the first number literal in expr that no
// float64 could hold, before anything evaluates it.
func checkNumberLiterals(expr hcl.Expression) *hcl.Diagnostic {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return nil
	}
	var found *hcl.Diagnostic
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		lit, ok := n.(*hclsyntax.LiteralValueExpr)
		if !ok || found != nil || lit.Val.IsNull() || !lit.Val.IsKnown() || lit.Val.Type() != cty.Number {
			return nil
		}
		if exp := lit.Val.AsBigFloat().MantExp(nil); exp > maxBinaryExponent || exp < -maxBinaryExponent {
			found = errorDiag(lit.SrcRange, "Value out of range",
				"The number is too large or too close to zero: numbers must fit a 64-bit floating-point value.")
		}
		return nil
	})
	return found
}

// requireAttr reports a required attribute that is absent or null. hcl
// reports absent ones itself (the schema marks them required); this catches
// `title = null`.
func requireAttr(attr *hcl.Attribute, ok bool) hcl.Diagnostics {
	if ok || attr == nil {
		return nil
	}
	return hcl.Diagnostics{errorDiag(attr.Expr.Range(), "Missing required argument",
		fmt.Sprintf("The argument %q is required, but it was set to null.", attr.Name))}
}

// typeDiag reports a value of the wrong type.
func typeDiag(attr *hcl.Attribute, want string, got cty.Value) *hcl.Diagnostic {
	return typeDiagAt(attr.Expr.Range(), attr.Name, want, got)
}

func typeDiagAt(subject hcl.Range, name, want string, got cty.Value) *hcl.Diagnostic {
	gotName := "an unknown value"
	if got.IsKnown() {
		if got.IsNull() {
			gotName = "null"
		} else {
			gotName = got.Type().FriendlyName()
		}
	}
	return errorDiag(subject, "Incorrect attribute value type",
		fmt.Sprintf("Inappropriate value for attribute %q: %s required, but got %s.", name, want, gotName))
}

// decodeString decodes an optional string attribute.
func decodeString(attr *hcl.Attribute) (s string, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := attrValue(attr)
	if !ok {
		return "", false, diags
	}
	if v.Type() != cty.String {
		return "", false, append(diags, typeDiag(attr, "string", v))
	}
	return v.AsString(), true, diags
}

// decodeBool decodes an optional bool attribute.
func decodeBool(attr *hcl.Attribute) (b, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := attrValue(attr)
	if !ok {
		return false, false, diags
	}
	if v.Type() != cty.Bool {
		return false, false, append(diags, typeDiag(attr, "bool", v))
	}
	return v.True(), true, diags
}

// decodeNumber decodes an optional number attribute into a finite float64.
func decodeNumber(attr *hcl.Attribute) (f float64, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := attrValue(attr)
	if !ok {
		return 0, false, diags
	}
	f, d := numberValue(attr.Expr.Range(), attr.Name, v)
	if d != nil {
		return 0, false, append(diags, d)
	}
	return f, true, diags
}

// numberValue converts a cty number to a finite float64.
func numberValue(subject hcl.Range, name string, v cty.Value) (float64, *hcl.Diagnostic) {
	if v.Type() != cty.Number {
		return 0, typeDiagAt(subject, name, "number", v)
	}
	f, _ := v.AsBigFloat().Float64()
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errorDiag(subject, "Value out of range",
			fmt.Sprintf("The value of %q is too large to be represented.", name))
	}
	return f, nil
}

// maxCount bounds lengths and item counts: they must fit an int on every
// platform and in a PostgreSQL integer.
const maxCount = math.MaxInt32

// decodeCount decodes an optional non-negative whole-number attribute such
// as min_length.
func decodeCount(attr *hcl.Attribute) (n int, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := attrValue(attr)
	if !ok {
		return 0, false, diags
	}
	if v.Type() != cty.Number {
		return 0, false, append(diags, typeDiag(attr, "number", v))
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false, append(diags, errorDiag(attr.Expr.Range(), "Whole number required",
			fmt.Sprintf("The value of %q must be a whole number, not %s.", attr.Name, formatBig(bf))))
	}
	if bf.Sign() < 0 || bf.Cmp(big.NewFloat(maxCount)) > 0 {
		return 0, false, append(diags, errorDiag(attr.Expr.Range(), "Value out of range",
			fmt.Sprintf("The value of %q must be between 0 and %d.", attr.Name, maxCount)))
	}
	i, _ := bf.Int64()
	return int(i), true, diags
}

// decodeStringList decodes an optional list of strings. When single is set,
// a lone string is accepted as a one-element list. ranges holds each
// element's source range where the list is written literally, else the
// whole expression's range for every element.
func decodeStringList(attr *hcl.Attribute, single bool) (list []string, ranges []hcl.Range, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := attrValue(attr)
	if !ok {
		return nil, nil, false, diags
	}
	want := "list of strings"
	if single {
		want = "string or list of strings"
	}
	rng := attr.Expr.Range()
	if single && v.Type() == cty.String {
		return []string{v.AsString()}, []hcl.Range{rng}, true, diags
	}
	ty := v.Type()
	if !ty.IsTupleType() && !ty.IsListType() && !ty.IsSetType() {
		return nil, nil, false, append(diags, typeDiag(attr, want, v))
	}
	exprs, _ := hcl.ExprList(attr.Expr)
	n := v.LengthInt()
	if len(exprs) != n {
		exprs = nil
	}
	list = make([]string, 0, n)
	ranges = make([]hcl.Range, 0, n)
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		er := rng
		if exprs != nil {
			er = exprs[i].Range()
		}
		if ev.IsNull() || ev.Type() != cty.String {
			diags = append(diags, errorDiag(er, "Incorrect attribute value type",
				fmt.Sprintf("Inappropriate value for attribute %q: element %d: string required, but got %s.",
					attr.Name, i, friendly(ev))))
			ok = false
			continue
		}
		ev, _ = ev.Unmark()
		list = append(list, ev.AsString())
		ranges = append(ranges, er)
	}
	return list, ranges, ok, diags
}

func friendly(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Type().FriendlyName()
}

// formatBig formats a number for a diagnostic through float64: big.Float's
// own Text takes time quadratic in the exponent.
func formatBig(bf *big.Float) string {
	f, _ := bf.Float64()
	return formatFloat(f)
}
