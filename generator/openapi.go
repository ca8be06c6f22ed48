package generator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/go-faster/yaml"

	"github.com/exhgen/exhgen/runtime/oauth"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/spec"
)

// obj is a JSON object under construction. Documents are maps so that
// encoding/json writes their keys sorted: the output is deterministic.
type obj = map[string]any

// ModelAPI is the naming of one model's generated operations and schemas,
// shared by the OpenAPI emitter and the Go glue.
type ModelAPI struct {
	Model       string // spec name, "patient_profile"
	Type        string // document schema, "PatientProfile"
	DataType    string // create body / data, "PatientProfileData"
	PatchType   string // patch body, "PatientProfilePatch"
	ListType    string // list response, "PatientProfileList"
	Collection  string // "/data/patient_profile/documents"
	Create      string // Go method names: "CreatePatientProfile"
	Get         string
	List        string
	Update      string
	Delete      string
	LinkUser    string // "LinkPatientProfileUser"
	UnlinkUser  string
	LinkGroup   string
	UnlinkGroup string
	// RQLFields are the paths queries may name, with Go constant names,
	// for the api package's field constants.
	RQLFields []RQLField
}

// RQLField is a queryable path of a model and the suffix of its Go
// constant: "device.serial" → "DeviceSerial".
type RQLField struct{ Path, Const string }

// rqlFields are a model's queryable paths (rqlExtension's), each with a
// distinct Go name; a path whose name another took first gets none.
func rqlFields(m *spec.Model) []RQLField {
	paths, _ := rqlExtension(m)["fields"].([]string)
	var out []RQLField
	seen := map[string]bool{}
	for _, p := range paths {
		c := goName(strings.ReplaceAll(p, ".", "_"))
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, RQLField{Path: p, Const: c})
	}
	return out
}

func modelAPI(m *spec.Model) ModelAPI {
	n := goName(m.Name)
	return ModelAPI{
		Model:       m.Name,
		Type:        n,
		DataType:    n + "Data",
		PatchType:   n + "Patch",
		ListType:    n + "List",
		Collection:  "/data/" + m.Name + "/documents",
		Create:      "Create" + n,
		Get:         "Get" + n,
		List:        "List" + n + "Documents",
		Update:      "Update" + n,
		Delete:      "Delete" + n,
		LinkUser:    "Link" + n + "User",
		UnlinkUser:  "Unlink" + n + "User",
		LinkGroup:   "Link" + n + "Group",
		UnlinkGroup: "Unlink" + n + "Group",
	}
}

// parseFragment reads an OpenAPI fragment (YAML or JSON) into a document map.
func parseFragment(data []byte) (obj, error) {
	var doc obj
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi fragment: %w", err)
	}
	// Round-trip through JSON so every nested value has JSON types.
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("normalise openapi fragment: %w", err)
	}
	doc = nil
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("normalise openapi fragment: %w", err)
	}
	return doc, nil
}

// sharedComponents are the components every part of the API refers to; the
// generated part takes them from the fixed fragment so there is one definition.
var sharedComponents = map[string][]string{
	"schemas":         {"Error", "ErrorDetail"},
	"responses":       {"Error"},
	"securitySchemes": {"bearerAuth"},
}

// modelDocument is the OpenAPI document of the generated (per-model) part of
// the API, with the shared components copied from the fixed fragment.
func modelDocument(p *spec.Project, fixed obj) (obj, error) {
	doc := baseDocument(p, fixed)
	comps := doc["components"].(obj)
	fixedComps, _ := fixed["components"].(map[string]any)
	for kind, names := range sharedComponents {
		src, _ := fixedComps[kind].(map[string]any)
		dst := obj{}
		for _, name := range names {
			if v, ok := src[name]; ok {
				dst[name] = v
			}
		}
		comps[kind] = dst
	}
	paths := doc["paths"].(obj)
	schemas := comps["schemas"].(obj)
	params := obj{}
	comps["parameters"] = params
	var tags []any
	taken := map[string]string{}
	for kind, names := range sharedComponents {
		if kind == "schemas" {
			for _, n := range names {
				taken[n] = "the shared components"
			}
		}
	}
	if fs, ok := fixedComps["schemas"].(map[string]any); ok {
		for n := range fs {
			taken[n] = "the fixed API"
		}
	}
	for _, n := range []string{"Page", "LinkUserRequest", "LinkGroupRequest"} {
		taken[n] = "the shared components"
	}
	for _, m := range p.Models {
		api := modelAPI(m)
		for _, n := range []string{api.Type, api.DataType, api.PatchType, api.ListType} {
			if owner, dup := taken[n]; dup {
				return nil, fmt.Errorf("model %q: its schema %s is also generated for %s; rename the model", m.Name, n, owner)
			}
			taken[n] = fmt.Sprintf("model %q", m.Name)
		}
		addModel(paths, schemas, api, m)
		desc := m.Description
		if desc == "" {
			desc = "Documents of the " + humanName(m.Name) + " model."
		}
		tags = append(tags, obj{"name": m.Name, "description": desc})
	}
	if len(p.Models) > 0 {
		schemas["Page"] = obj{
			"type":        "object",
			"description": "Where a page of results sits in the whole result set.",
			"required":    []string{"limit", "offset"},
			"properties": obj{
				"limit":  obj{"type": "integer", "format": "int32", "description": "The page size used: limit(n) clamped to the model's maximum, or its default."},
				"offset": obj{"type": "integer", "format": "int32", "description": "The number of results skipped."},
				"total":  obj{"type": "integer", "format": "int64", "description": "The number of matching results the caller may read in all; absent with skipCount()."},
			},
		}
		params["DocumentID"] = obj{"name": "id", "in": "path", "required": true, "description": "The document's id.",
			"schema": obj{"type": "string", "format": "uuid"}}
		params["UserID"] = obj{"name": "user_id", "in": "path", "required": true, "description": "The linked user's id.",
			"schema": obj{"type": "string", "format": "uuid"}}
		params["GroupID"] = obj{"name": "group_id", "in": "path", "required": true, "description": "The linked group's id.",
			"schema": obj{"type": "string", "format": "uuid"}}
		for _, k := range []struct{ name, field, what string }{
			{"LinkUserRequest", "user_id", "user"},
			{"LinkGroupRequest", "group_id", "group"},
		} {
			schemas[k.name] = obj{
				"x-ogen-name":          k.name,
				"type":                 "object",
				"description":          "The " + k.what + " to link to a document.",
				"additionalProperties": false,
				"required":             []string{k.field},
				"properties":           obj{k.field: obj{"type": "string", "format": "uuid", "description": "The " + k.what + "'s id."}},
			}
		}
		params["IfMatch"] = obj{"name": "If-Match", "in": "header", "required": false,
			"description": "The document version the change is based on, as returned in `version`. A stale version fails with 412.",
			"schema":      obj{"type": "string", "maxLength": 32}}
	}
	doc["tags"] = tags
	return doc, nil
}

// baseDocument is the skeleton every document of the project shares.
func baseDocument(p *spec.Project, fixed obj) obj {
	version := p.Version
	if version == "" {
		version = "0.1.0"
	}
	title := p.Title
	if title == "" {
		title = p.Name
	}
	info := obj{"title": title, "version": version}
	if p.Description != "" {
		info["description"] = p.Description
	}
	if p.License != "" {
		lic := obj{"name": p.License}
		if p.LicenseURL != "" {
			lic["url"] = p.LicenseURL
		}
		info["license"] = lic
	} else if fi, ok := fixed["info"].(map[string]any); ok {
		if lic, ok := fi["license"]; ok {
			info["license"] = lic
		}
	}
	doc := obj{
		"openapi":    "3.0.3",
		"info":       info,
		"security":   []any{obj{"bearerAuth": []any{}}},
		"paths":      obj{},
		"components": obj{"schemas": obj{}},
	}
	if p.ServerURL != "" {
		doc["servers"] = []any{obj{"url": p.ServerURL, "description": title}}
	} else if servers, ok := fixed["servers"]; ok {
		doc["servers"] = servers
	}
	return doc
}

func errorResponses(extra obj) obj {
	r := obj{"default": obj{"$ref": "#/components/responses/Error"}}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func jsonContent(ref string) obj {
	return obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/" + ref}}}
}

func addModel(paths, schemas obj, api ModelAPI, m *spec.Model) {
	h := humanName(m.Name)
	data := objectSchema(m.Fields, modeOpenAPI)
	data["description"] = "The fields of a " + h + " document."
	if m.Description != "" {
		data["description"] = m.Description
	}
	// x-ogen-name pins the Go type names to the schema names, which the
	// glue uses (ogen would otherwise apply initialisms: "UrlData" → "URLData").
	data["x-ogen-name"] = api.DataType
	schemas[api.DataType] = data
	patch := objectSchema(m.Fields, modePatch)
	patch["description"] = "A JSON merge patch (RFC 7396) of a " + h + " document's fields: a field set to null is removed."
	patch["x-ogen-name"] = api.PatchType
	schemas[api.PatchType] = patch
	schemas[api.Type] = documentSchema(api, h)
	schemas[api.ListType] = obj{
		"x-ogen-name": api.ListType,
		"type":        "object",
		"description": "A page of " + h + " documents.",
		"required":    []string{"data", "page"},
		"properties": obj{
			"data": obj{"type": "array", "items": obj{"$ref": "#/components/schemas/" + api.Type}},
			"page": obj{"$ref": "#/components/schemas/Page"},
		},
	}
	tags := []string{m.Name}
	idParam := obj{"$ref": "#/components/parameters/DocumentID"}
	ifMatch := obj{"$ref": "#/components/parameters/IfMatch"}
	paths[api.Collection] = obj{
		"post": obj{
			"operationId": lowerFirst(api.Create),
			"tags":        tags,
			"summary":     "Create a " + h,
			"description": "Creates a " + h + " document owned by the caller. The body is validated against the model's schema.",
			"requestBody": obj{"required": true, "content": jsonContent(api.DataType)},
			"responses": errorResponses(obj{
				"201": obj{"description": "The created document.", "content": jsonContent(api.Type)},
			}),
		},
		"get": obj{
			"operationId": lowerFirst(api.List),
			"tags":        tags,
			"summary":     "List " + h + " documents",
			"description": "Lists the " + h + " documents the caller may read that match the query, newest first unless sorted. " +
				"Besides the model's fields, the server-owned ones (id, creator_id, user_ids, group_ids, status, status_changed_at, created_at, updated_at, version) can be queried. " +
				rqlPlaceholder,
			"x-rql": rqlExtension(m),
			"responses": errorResponses(obj{
				"200": obj{"description": "A page of documents.", "content": jsonContent(api.ListType)},
			}),
		},
	}
	addLinks(paths, api, m, h)
	paths[api.Collection+"/{id}"] = obj{
		"get": obj{
			"operationId": lowerFirst(api.Get),
			"tags":        tags,
			"summary":     "Get a " + h,
			"description": "Returns one " + h + " document. A document the caller may not read is reported as not found.",
			"parameters":  []any{idParam},
			"responses": errorResponses(obj{
				"200": obj{"description": "The document.", "content": jsonContent(api.Type)},
			}),
		},
		"patch": obj{
			"operationId": lowerFirst(api.Update),
			"tags":        tags,
			"summary":     "Update a " + h,
			"description": "Applies a JSON merge patch to the document's fields. With `If-Match`, the update fails with 412 when the document has changed since that version. " +
				"A query string holding an RQL condition (as for the list operation, e.g. `?eq(status,new)`) guards the update: it applies only if the document matches, else 412 `rql_no_match`.",
			"parameters":  []any{idParam, ifMatch},
			"requestBody": obj{"required": true, "content": jsonContent(api.PatchType)},
			"responses": errorResponses(obj{
				"200": obj{"description": "The updated document.", "content": jsonContent(api.Type)},
			}),
		},
		"delete": obj{
			"operationId": lowerFirst(api.Delete),
			"tags":        tags,
			"summary":     "Delete a " + h,
			"description": "Deletes the document. With `If-Match`, the delete fails with 412 when the document has changed since that version.",
			"parameters":  []any{idParam, ifMatch},
			"responses": errorResponses(obj{
				"204": obj{"description": "The document was deleted."},
			}),
		},
	}
}

// addLinks adds the operations linking users and groups to a model's
// documents.
func addLinks(paths obj, api ModelAPI, m *spec.Model, h string) {
	tags := []string{m.Name}
	idParam := obj{"$ref": "#/components/parameters/DocumentID"}
	for _, k := range []struct {
		kind, plural, param, request, link, unlink string
	}{
		{"user", "users", "UserID", "LinkUserRequest", api.LinkUser, api.UnlinkUser},
		{"group", "groups", "GroupID", "LinkGroupRequest", api.LinkGroup, api.UnlinkGroup},
	} {
		rule := "linked_users"
		if k.kind == "group" {
			rule = "linked_group_staff and linked_group_patients"
		}
		paths[api.Collection+"/{id}/"+k.plural] = obj{
			"post": obj{
				"operationId": lowerFirst(k.link),
				"tags":        tags,
				"summary":     "Link a " + k.kind + " to a " + h,
				"description": "Links a " + k.kind + " to the document, so that the model's " + rule + " access rules can grant them access. " +
					"Needs the model's link and read access; a document the caller may not link is reported as not found. Linking again changes nothing.",
				"parameters":  []any{idParam},
				"requestBody": obj{"required": true, "content": jsonContent(k.request)},
				"responses": errorResponses(obj{
					"200": obj{"description": "The document with its links.", "content": jsonContent(api.Type)},
				}),
			},
		}
		paths[api.Collection+"/{id}/"+k.plural+"/{"+k.kind+"_id}"] = obj{
			"delete": obj{
				"operationId": lowerFirst(k.unlink),
				"tags":        tags,
				"summary":     "Unlink a " + k.kind + " from a " + h,
				"description": "Removes the " + k.kind + "'s link to the document. Needs the model's unlink and read access; a document the caller may not unlink is reported as not found.",
				"parameters":  []any{idParam, obj{"$ref": "#/components/parameters/" + k.param}},
				"responses": errorResponses(obj{
					"200": obj{"description": "The document with its links.", "content": jsonContent(api.Type)},
				}),
			},
		}
	}
}

// listLimits are a model's default and maximum list limits.
func listLimits(m *spec.Model) (def, max int) {
	def, max = m.List.DefaultLimit, m.List.MaxLimit
	if def == 0 {
		def = rql.DefaultLimit
	}
	if max == 0 {
		max = rql.MaxLimit
	}
	return def, max
}

// rqlPlaceholder ends the description of a list operation whose
// generic RQL text describeRQL fills in.
const rqlPlaceholder = "{{rql}}"

// describeRQL appends the RQL query-string documentation (rql.Description,
// one text for every list) to each operation of doc that carries an x-rql
// extension, fixed and generated alike, replacing rqlPlaceholder if the
// description holds one.
func describeRQL(doc obj) error {
	paths, _ := doc["paths"].(obj)
	for path, item := range paths {
		for method, op := range asMap(item) {
			o := asMap(op)
			x := asMap(o["x-rql"])
			if x == nil {
				continue
			}
			def, okd := asInt(x["default_limit"])
			max, okm := asInt(x["max_limit"])
			if !okd || !okm {
				return fmt.Errorf("%s %s: x-rql needs default_limit and max_limit", method, path)
			}
			desc, _ := o["description"].(string)
			text := rql.Description(def, max)
			if strings.Contains(desc, rqlPlaceholder) {
				desc = strings.Replace(desc, rqlPlaceholder, text, 1)
			} else {
				desc = strings.TrimSpace(desc + " " + text)
			}
			o["description"] = desc
		}
	}
	return nil
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}

// rqlExtension is the x-rql extension of a list operation: the limits,
// the queryable paths and example queries for client generators and docs.
func rqlExtension(m *spec.Model) obj {
	def, max := listLimits(m)
	paths := rql.SystemFields()
	var walk func(prefix string, fs []*spec.Field)
	walk = func(prefix string, fs []*spec.Field) {
		for _, f := range fs {
			p := prefix + f.Name
			paths = append(paths, p)
			if f.Type == spec.TypeArray && f.Items != nil {
				walk(p+".", f.Items.Fields)
			}
			walk(p+".", f.Fields)
		}
	}
	walk("", m.Fields)
	return obj{
		"default_limit": def,
		"max_limit":     max,
		"fields":        paths,
		"examples":      rqlExamples(m),
	}
}

// rqlExamples are example queries over a model's own fields: one per kind
// of field (number, string, date-time, array, object).
func rqlExamples(m *spec.Model) []string {
	ex := []string{"sort(-created_at)&limit(20)"}
	done := map[string]bool{}
	for _, f := range m.Fields {
		var kind, q string
		switch f.Type {
		case spec.TypeInteger, spec.TypeNumber:
			kind, q = "number", "and(ge("+f.Name+",10),lt("+f.Name+",100))&sort(-"+f.Name+")&limit(20,40)"
		case spec.TypeString, spec.TypeEmail:
			kind, q = "string", "like("+f.Name+",text)&select("+f.Name+")&skipCount()"
		case spec.TypeDateTime:
			kind, q = "datetime", "gt("+f.Name+",2026-01-01T00:00:00Z)&sort(-"+f.Name+")"
		case spec.TypeArray:
			kind, q = "array", "contains("+f.Name+")"
		case spec.TypeObject:
			if len(f.Fields) > 0 {
				kind, q = "object", "eq("+f.Name+"."+f.Fields[0].Name+",value)"
			}
		}
		if kind != "" && !done[kind] {
			done[kind] = true
			ex = append(ex, q)
		}
	}
	return ex
}

func documentSchema(api ModelAPI, h string) obj {
	uuidArr := obj{"type": "array", "items": obj{"type": "string", "format": "uuid"}}
	ts := func(d string) obj { return withDesc(dateTimeSchema(true), d) }
	return obj{
		"x-ogen-name": api.Type,
		"type":        "object",
		"description": "A " + h + " document: server-owned metadata and the fields in `data`.",
		"required":    []string{"id", "creator_id", "user_ids", "group_ids", "status", "status_changed_at", "created_at", "updated_at", "version", "data"},
		"properties": obj{
			"id":                obj{"type": "string", "format": "uuid", "description": "The document's id."},
			"creator_id":        obj{"type": "string", "format": "uuid", "description": "The user who created the document."},
			"user_ids":          withDesc(uuidArr, "Users linked to the document."),
			"group_ids":         withDesc(uuidArr, "Groups linked to the document."),
			"status":            obj{"type": "string", "description": "The document's workflow status."},
			"status_changed_at": ts("When the status last changed."),
			"created_at":        ts("When the document was created."),
			"updated_at":        ts("When the document was last changed."),
			"version":           obj{"type": "integer", "format": "int64", "description": "Incremented by every change; send it in If-Match to update safely."},
			"data":              obj{"$ref": "#/components/schemas/" + api.DataType},
		},
	}
}

func withDesc(o obj, d string) obj {
	c := obj{}
	for k, v := range o {
		c[k] = v
	}
	c["description"] = d
	return c
}

// mergeDocuments merges OpenAPI documents: the fixed fragments' operations
// and components followed by the generated ones. The first document gives
// the info and servers defaults. Names must not collide.
func mergeDocuments(p *spec.Project, docs ...obj) (obj, error) {
	doc := baseDocument(p, docs[0])
	paths := doc["paths"].(obj)
	for _, src := range docs {
		sp, _ := src["paths"].(map[string]any)
		if sp == nil {
			sp, _ = src["paths"].(obj)
		}
		for k, v := range sp {
			if _, dup := paths[k]; dup {
				return nil, fmt.Errorf("path %q is declared twice", k)
			}
			paths[k] = v
		}
	}
	comps := obj{}
	for _, src := range docs {
		sc, _ := src["components"].(map[string]any)
		if sc == nil {
			sc, _ = src["components"].(obj)
		}
		for kind, v := range sc {
			m := asMap(v)
			dst, _ := comps[kind].(obj)
			if dst == nil {
				dst = obj{}
				comps[kind] = dst
			}
			for name, def := range m {
				if prev, dup := dst[name]; dup {
					a, _ := json.Marshal(prev)
					b, _ := json.Marshal(def)
					if string(a) != string(b) {
						return nil, fmt.Errorf("component %s/%s is declared twice with different content", kind, name)
					}
				}
				dst[name] = def
			}
		}
	}
	doc["components"] = comps
	var tags []any
	seen := map[string]bool{}
	for _, src := range docs {
		ts, _ := src["tags"].([]any)
		for _, t := range ts {
			name, _ := asMap(t)["name"].(string)
			if !seen[name] {
				seen[name] = true
				tags = append(tags, t)
			}
		}
	}
	doc["tags"] = tags
	return doc, nil
}

func asMap(v any) map[string]any {
	switch m := v.(type) {
	case obj:
		return m
	default:
		return nil
	}
}

// encodeJSON writes a document as indented JSON with a final newline.
func encodeJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// oauthDocument is the OAuth2 / OpenID Connect fragment of runtime/oauth,
// with the oauth2 security scheme's scopes filled in from the declared
// applications.
func oauthDocument(p *spec.Project) (obj, error) {
	doc, err := parseFragment(oauth.Fragment())
	if err != nil {
		return nil, fmt.Errorf("oauth fragment: %w", err)
	}
	scopes := obj{}
	codeApps, clientApps := false, false
	for _, a := range p.Applications {
		for _, s := range a.Scopes {
			scopes[s] = scopeDescription(s)
		}
		codeApps = codeApps || a.HasGrant(spec.GrantAuthorizationCode)
		clientApps = clientApps || a.HasGrant(spec.GrantClientCredentials)
	}
	comps, _ := doc["components"].(map[string]any)
	schemes, _ := comps["securitySchemes"].(map[string]any)
	o2, _ := schemes["oauth2"].(map[string]any)
	flows, _ := o2["flows"].(map[string]any)
	if flows == nil {
		return nil, fmt.Errorf("oauth fragment: no oauth2 flows")
	}
	for name, keep := range map[string]bool{"authorizationCode": codeApps, "clientCredentials": clientApps} {
		f, _ := flows[name].(map[string]any)
		if !keep || f == nil {
			delete(flows, name)
			continue
		}
		f["scopes"] = scopes
	}
	if len(flows) == 0 {
		delete(schemes, "oauth2")
	} else {
		o2["description"] = "Access tokens of the declared applications' OAuth2 flows: authorization code (PKCE with S256 required) and client credentials. " +
			"They are the same bearer JWTs as bearerAuth's; the operations require no particular scope (a token may do what its user's roles allow), " +
			"the scopes select ID token and userinfo claims and refresh tokens."
	}
	customSecurity(doc)
	ssoDocument(p, doc)
	return doc, nil
}

// oauthSchemes are the security schemes a project with applications
// accepts besides bearerAuth, in the order operations list them: OAuth2
// access tokens (the same bearer JWTs, from the flows), OpenID Connect
// (discovery of those flows) and OAuth 1.0 signed requests (RFC 5849),
// which runtime/oauth verifies before the API's handlers.
var oauthSchemes = []string{"oauth2", "openIdConnect", "oauth1"}

// customSecurity marks the schemes ogen cannot read from a request by
// itself (an "OAuth" HTTP scheme, OpenID Connect) as custom: its security
// handler then gets the request (x-ogen-custom-security), and the client's
// security source signs or authorises it.
func customSecurity(doc obj) {
	schemes := asMap(asMap(doc["components"])["securitySchemes"])
	for _, name := range []string{"oauth1", "openIdConnect"} {
		if s := asMap(schemes[name]); s != nil {
			s["x-ogen-custom-security"] = true
		}
	}
}

// secureOperations lists the security alternatives of every protected
// operation, fixed and generated: an operation the fragments protect with
// bearerAuth alone (or that inherits the document's bearerAuth) accepts
// each scheme the document declares of bearerAuth, oauth2, openIdConnect
// and oauth1 — one of them suffices. Public operations (security: []) and
// operations with other requirements are left alone.
func secureOperations(doc obj) {
	schemes := asMap(asMap(doc["components"])["securitySchemes"])
	alternatives := func() []any {
		alts := []any{obj{"bearerAuth": []any{}}}
		for _, name := range oauthSchemes {
			if _, ok := schemes[name]; ok {
				alts = append(alts, obj{name: []any{}})
			}
		}
		return alts
	}
	bearerOnly := func(v any) bool {
		list, ok := v.([]any)
		if !ok || len(list) != 1 {
			return false
		}
		m := asMap(list[0])
		_, ok = m["bearerAuth"]
		return ok && len(m) == 1
	}
	if bearerOnly(doc["security"]) {
		doc["security"] = alternatives()
	}
	for _, item := range asMap(doc["paths"]) {
		for _, op := range asMap(item) {
			o := asMap(op)
			if sec, ok := o["security"]; ok && bearerOnly(sec) {
				o["security"] = alternatives()
			}
		}
	}
}

// ssoDocument keeps the fragment's SSO operations only when the project
// declares SSO providers, with their names as the provider parameter's
// enum.
func ssoDocument(p *spec.Project, doc obj) {
	paths, _ := doc["paths"].(map[string]any)
	names := make([]any, len(p.SSOProviders))
	for i, sp := range p.SSOProviders {
		names[i] = sp.Name
	}
	for path, item := range paths {
		if !strings.HasPrefix(path, "/oauth/authorize/sso/") && !strings.HasPrefix(path, "/oauth/sso/") {
			continue
		}
		if len(names) == 0 {
			delete(paths, path)
			continue
		}
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, prm := range params {
				pm, _ := prm.(map[string]any)
				if pm["name"] == "provider" && pm["in"] == "path" {
					schema, _ := pm["schema"].(map[string]any)
					schema["enum"] = names
				}
			}
		}
	}
	if len(names) > 0 {
		return
	}
	if tags, ok := doc["tags"].([]any); ok {
		doc["tags"] = slices.DeleteFunc(tags, func(t any) bool { m, _ := t.(map[string]any); return m["name"] == "sso" })
	}
	if schemas, ok := doc["components"].(map[string]any)["schemas"].(map[string]any); ok {
		for _, n := range []string{"SSOLinkTicket", "SSOIdentity", "SSOIdentityList"} {
			delete(schemas, n)
		}
	}
}

func scopeDescription(s string) string {
	switch s {
	case spec.ScopeOpenID:
		return "Sign in with OpenID Connect: an ID token."
	case spec.ScopeProfile:
		return "The user's name, language and time zone."
	case spec.ScopeEmail:
		return "The user's email address."
	case spec.ScopeOfflineAccess:
		return "Refresh tokens."
	}
	return "The " + s + " scope."
}
