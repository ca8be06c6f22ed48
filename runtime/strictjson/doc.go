// Package strictjson parses JSON the way a medical backend must accept it:
// refusing what Go's decoders silently accept (duplicate keys, invalid UTF-8,
// U+0000, unbounded nesting, trailing data) and saying where the problem is
// as a JSON pointer with a stable code. The HTTP server checks every JSON
// request body with Check, which accepts and refuses exactly as Parse does
// but builds nothing; the document service parses bodies with Parse.
package strictjson
