package document

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/runtime/strictjson"
)

// InitialStatus is the status of a new document.
const InitialStatus = "active"

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that stamps created_at, updated_at and
// status_changed_at (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithIDs sets the source of new document ids (default UUIDv7).
func WithIDs(next func() uuid.UUID) Option {
	return func(s *Service) { s.newID = next }
}

// Service stores the documents of every model of a project. It is safe for
// concurrent use.
type Service struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	now    func() time.Time
	newID  func() uuid.UUID
	models map[string]*model
}

// accessRules are a model's compiled rules per action.
type accessRules struct {
	create, read, update, delete, link, unlink rules
}

// model is the compiled, ready-to-run form of a project.Model.
type model struct {
	name     string
	table    string
	schema   *jsonschema.Schema
	columns  []column
	byColumn map[string]string // column name → field name
	integers []string          // top-level integer fields
	required []string          // required top-level fields
	query    *rql.Schema       // what list queries and guards resolve against
	defaults []fieldDefault
	access   accessRules
	sql      statements
	synced   bool // group_ids follow the creator's patient groups
}

type fieldDefault struct {
	name  string
	value any
}

// New compiles every model of p: its JSON Schema (format assertions on) and
// its SQL statements. Access rule lists naming an unknown rule are logged
// and deny everybody (AC-1).
func New(pool *pgxpool.Pool, p *project.Project, logger *slog.Logger, opts ...Option) (*Service, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		pool:   pool,
		logger: logger,
		now:    time.Now,
		newID:  newV7,
		models: make(map[string]*model, len(p.Models)),
	}
	for _, o := range opts {
		o(s)
	}
	df, err := newDateFormats()
	if err != nil {
		return nil, err
	}
	for i := range p.Models {
		m, err := compileModel(&p.Models[i], df, logger)
		if err != nil {
			return nil, err
		}
		if _, dup := s.models[m.name]; dup {
			return nil, fmt.Errorf("model %q declared twice", m.name)
		}
		s.models[m.name] = m
	}
	return s, nil
}

func newV7() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

func compileModel(pm *project.Model, df *dateFormats, logger *slog.Logger) (*model, error) {
	if pm.Table == "" {
		return nil, fmt.Errorf("model %q has no table", pm.Name)
	}
	sch, err := compileSchema(pm.Name, pm.Schema, df)
	if err != nil {
		return nil, err
	}
	m := &model{
		name:     pm.Name,
		table:    pm.Table,
		schema:   sch,
		byColumn: make(map[string]string, len(pm.Fields)),
	}
	for _, f := range pm.Fields {
		if !namePattern.MatchString(f.Name) {
			return nil, fmt.Errorf("model %q: field name %q is not a plain identifier", pm.Name, f.Name)
		}
		col := f.Column
		if col == "" {
			col = f.Name
		}
		typ, ok := sqlTypes[strings.ToLower(strings.TrimSpace(f.SQLType))]
		if !ok {
			return nil, fmt.Errorf("model %q: field %q: unsupported SQL type %q", pm.Name, f.Name, f.SQLType)
		}
		m.columns = append(m.columns, column{name: f.Name, ident: ident(col), column: col, sqlType: typ})
		m.byColumn[col] = f.Name
		if f.Type == project.Integer {
			m.integers = append(m.integers, f.Name)
		}
		if f.Required {
			m.required = append(m.required, f.Name)
		}
		if len(f.Default) > 0 {
			v, err := strictjson.Parse(f.Default)
			if err != nil {
				return nil, fmt.Errorf("model %q: field %q: invalid default: %w", pm.Name, f.Name, err)
			}
			m.defaults = append(m.defaults, fieldDefault{name: f.Name, value: v})
		}
	}
	for _, a := range []struct {
		action string
		names  []string
		dst    *rules
	}{
		{actionCreate, pm.Access.Create, &m.access.create},
		{actionRead, pm.Access.Read, &m.access.read},
		{actionUpdate, pm.Access.Update, &m.access.update},
		{actionDelete, pm.Access.Delete, &m.access.delete},
		{actionLink, pm.Access.Link, &m.access.link},
		{actionUnlink, orRules(pm.Access.Unlink, pm.Access.Link), &m.access.unlink},
	} {
		r, err := compileRules(pm.Name, a.action, a.names)
		if err != nil {
			logger.Error("access rules cannot be evaluated; the action is denied to everybody", "err", err)
		}
		*a.dst = r
	}
	switch pm.Access.GroupSync {
	case "", project.GroupSyncNone:
	case project.GroupSyncCreatorPatientGroups:
		m.synced = true
	default:
		return nil, fmt.Errorf("model %q: unknown group sync mode %q", pm.Name, pm.Access.GroupSync)
	}
	m.sql = buildStatements(pm.Table, m.columns, InitialStatus, m.synced)
	if m.query, err = rql.FromModel(pm); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) model(name string) (*model, error) {
	m, ok := s.models[name]
	if !ok {
		return nil, apierr.ErrNotFound
	}
	return m, nil
}

func caller(ctx context.Context) (*auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return nil, apierr.ErrUnauthorized
	}
	return p, nil
}

func (s *Service) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// orRules is rules, or def when rules is empty.
func orRules(rules, def []string) []string {
	if len(rules) == 0 {
		return def
	}
	return rules
}

// Create validates data and stores it as a new document owned by the
// caller; out receives the stored document. The create rules are checked
// against the new document's server-owned state (AC-4): when they depend on
// it, the insert runs in a transaction that is rolled back if they refuse.
func (s *Service) Create(ctx context.Context, modelName string, data json.Marshaler, out json.Unmarshaler) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	m, err := s.model(modelName)
	if err != nil {
		return err
	}
	rules := m.access.create
	check := !rules.unrestricted(p)
	if check {
		// Without a synced model's groups, the new state is known: the
		// caller creates it and is its only linked user.
		if _, possible := rules.cond(p, newParams()); !possible && !m.synced {
			return s.deny(ctx, m, p, "create", uuid.Nil, apierr.ErrForbidden)
		}
	}
	doc, raw, err := decodeObject(data)
	if err != nil {
		return err
	}
	changed := m.applyDefaults(doc)
	if m.normalise(doc) {
		changed = true
	}
	if err := validate(m.schema, doc); err != nil {
		return err
	}
	if changed {
		if raw, err = json.Marshal(doc); err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
	}
	id := s.newID()
	var res []byte
	if !check {
		err = db.QueryRow(ctx, s.pool, m.sql.insert, id, p.UserID, s.timestamp(), raw).Scan(&res)
		if err != nil {
			return s.dbError(ctx, m, "create", err)
		}
		return decodeOut(out, res)
	}
	denied := false
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, m.sql.insert, id, p.UserID, s.timestamp(), raw).Scan(&res); err != nil {
			return s.dbError(ctx, m, "create", err)
		}
		var meta struct {
			UserIDs  []uuid.UUID `json:"user_ids"`
			GroupIDs []uuid.UUID `json:"group_ids"`
		}
		if err := json.Unmarshal(res, &meta); err != nil {
			return fmt.Errorf("decode created document: %w", err)
		}
		if !rules.allows(p, docMeta{creatorID: p.UserID, userIDs: meta.UserIDs, groupIDs: meta.GroupIDs}) {
			denied = true
			return apierr.ErrForbidden
		}
		return nil
	})
	if denied {
		return s.deny(ctx, m, p, "create", uuid.Nil, apierr.ErrForbidden)
	}
	if err != nil {
		return s.txError(ctx, m, "create", err)
	}
	return decodeOut(out, res)
}

// deny records a refused operation on a document (AUD-1) and returns err.
// A refusal answered as 404 is recorded only when the document exists: a
// missing document is no denial.
func (s *Service) deny(ctx context.Context, m *model, p *auth.Principal, op string, id uuid.UUID, err error) error {
	if id != uuid.Nil {
		var exists bool
		if qerr := db.QueryRow(ctx, s.pool, m.sql.exists, id).Scan(&exists); qerr != nil {
			return s.dbError(ctx, m, op, qerr)
		}
		if !exists {
			return err
		}
	}
	e := audit.Entry{Action: "access.denied", Resource: m.name, Outcome: audit.Denied,
		Reason: apierr.From(err).Code, Details: map[string]any{"operation": op}}
	if p != nil {
		e.ActorID = &p.UserID
	}
	if id != uuid.Nil {
		e.ResourceID = id.String()
	}
	if werr := audit.Write(ctx, poolExec{s.pool}, e); werr != nil {
		return fmt.Errorf("document %s %s: %w", op, m.name, werr)
	}
	return err
}

// poolExec adapts the pool to db.Execer with the bounded acquire of db.Exec.
type poolExec struct{ pool *pgxpool.Pool }

func (e poolExec) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return db.Exec(ctx, e.pool, sql, args...)
}

// Get reads one document. A document the caller may not read is reported
// as missing (AC-2).
func (s *Service) Get(ctx context.Context, modelName string, id uuid.UUID, out json.Unmarshaler) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	m, err := s.model(modelName)
	if err != nil {
		return err
	}
	a := newParams(id)
	cond, ok := accessCond(p, a, m.access.read)
	if !ok {
		return s.deny(ctx, m, p, "get", id, apierr.ErrNotFound)
	}
	var res []byte
	if err := db.QueryRow(ctx, s.pool, m.sql.get.with(cond), a.args...).Scan(&res); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return s.deny(ctx, m, p, "get", id, apierr.ErrNotFound)
		}
		return s.dbError(ctx, m, "get", err)
	}
	return decodeOut(out, res)
}

// List reads a page of the documents the caller may read that match
// query, a raw RQL query string (package rql: filter, select, sort,
// limit(n,offset) clamped to the model's maximum, skipCount()); without a
// sort, newest first. out receives {"data":[…],"page":{"limit","offset",
// "total"}} where total counts only matching readable documents and is
// left out with skipCount(). A malformed query is a 400 with an rql code.
func (s *Service) List(ctx context.Context, modelName, query string, out json.Unmarshaler) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	m, err := s.model(modelName)
	if err != nil {
		return err
	}
	return s.list(ctx, p, m, query, out)
}

// Update applies a JSON merge patch (RFC 7396) to a document's data,
// validates the result in full and stores it as the next version. A patch
// that leaves every stored value as it is writes nothing: out receives the
// current document, with its version and updated_at unchanged. ifMatch,
// when not empty, is the version the caller last read: a stale one gives
// 412 (AUD-5), no-op or not. A document the caller may not both read and
// update is reported as missing (AC-2): the response would show it. When
// the request's query string (rql.RawQuery(ctx)) holds an RQL condition,
// the patch applies only if the locked document matches it; otherwise 412
// rql_no_match (a malformed condition is a 400 before anything is read).
func (s *Service) Update(ctx context.Context, modelName string, id uuid.UUID, ifMatch string, patch json.Marshaler, out json.Unmarshaler) error {
	p, m, want, check, err := s.prepareWrite(ctx, modelName, ifMatch)
	if err != nil {
		return err
	}
	a := newParams(id)
	cond, ok := accessCond(p, a, m.access.update, m.access.read)
	if !ok {
		return s.deny(ctx, m, p, "update", id, apierr.ErrNotFound)
	}
	patchDoc, _, err := decodeObject(patch)
	if err != nil {
		return err
	}
	guardSQL, guardArgs, err := m.parseGuard(ctx)
	if err != nil {
		return err
	}
	var res []byte
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := lockDoc(ctx, tx, m.sql.lock.with(cond), a)
		if err != nil {
			return err
		}
		// The SQL condition already applied the rules to the old state;
		// this also covers rules that SQL cannot express.
		if !m.access.update.allows(p, cur.meta) || !m.access.read.allows(p, cur.meta) {
			return apierr.ErrNotFound
		}
		if check && cur.version != want {
			return apierr.ErrPreconditionFailed
		}
		if err := checkGuard(ctx, tx, guardSQL, guardArgs, id); err != nil {
			return err
		}
		data, err := strictjson.Parse(cur.data)
		if err != nil {
			return fmt.Errorf("decode stored document: %w", err)
		}
		merged, ok := mergePatch(data, patchDoc).(map[string]any)
		if !ok {
			return fmt.Errorf("merge patch: result is not an object")
		}
		m.normalise(merged)
		if err := validate(m.schema, merged); err != nil {
			return err
		}
		// AC-4: the new state must be in the caller's scope as well, so a
		// write cannot move a document out of it. A patch only changes
		// data; the server-owned fields the rules read stay as they are.
		next := cur.meta
		if !m.access.update.allows(p, next) {
			return apierr.ErrForbidden
		}
		raw, err := json.Marshal(merged)
		if err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
		// The statement writes only when a stored value changes and
		// otherwise returns the document as it is.
		err = tx.QueryRow(ctx, m.sql.update, id, s.timestamp(), raw, cur.version).Scan(&res)
		if errors.Is(err, pgx.ErrNoRows) {
			// Cannot happen under the row lock; never overwrite blindly.
			return apierr.ErrPreconditionFailed
		}
		if err != nil {
			return s.dbError(ctx, m, "update", err)
		}
		return nil
	})
	if errors.Is(err, apierr.ErrNotFound) {
		return s.deny(ctx, m, p, "update", id, apierr.ErrNotFound)
	}
	if err != nil {
		return s.txError(ctx, m, "update", err)
	}
	return decodeOut(out, res)
}

// prepareWrite is what Update and Delete check first: the caller, the
// model and the If-Match header (check reports whether one was given).
func (s *Service) prepareWrite(ctx context.Context, modelName, ifMatch string) (p *auth.Principal, m *model, want int64, check bool, err error) {
	if p, err = caller(ctx); err != nil {
		return nil, nil, 0, false, err
	}
	if m, err = s.model(modelName); err != nil {
		return nil, nil, 0, false, err
	}
	if want, check, err = ParseIfMatch(ifMatch); err != nil {
		return nil, nil, 0, false, err
	}
	return p, m, want, check, nil
}

// Delete removes a document. ifMatch works as for Update. A document the
// caller may not both read and delete is reported as missing (AC-2).
func (s *Service) Delete(ctx context.Context, modelName string, id uuid.UUID, ifMatch string) error {
	p, m, want, check, err := s.prepareWrite(ctx, modelName, ifMatch)
	if err != nil {
		return err
	}
	a := newParams(id)
	cond, ok := accessCond(p, a, m.access.delete, m.access.read)
	if !ok {
		return s.deny(ctx, m, p, "delete", id, apierr.ErrNotFound)
	}
	if !check {
		tag, err := db.Exec(ctx, s.pool, m.sql.deleteNow.with(cond), a.args...)
		if err != nil {
			return s.dbError(ctx, m, "delete", err)
		}
		if tag.RowsAffected() == 0 {
			return s.deny(ctx, m, p, "delete", id, apierr.ErrNotFound)
		}
		return nil
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := lockDoc(ctx, tx, m.sql.lock.with(cond), a)
		if err != nil {
			return err
		}
		if !m.access.delete.allows(p, cur.meta) || !m.access.read.allows(p, cur.meta) {
			return apierr.ErrNotFound
		}
		if cur.version != want {
			return apierr.ErrPreconditionFailed
		}
		tag, err := tx.Exec(ctx, m.sql.deleteLocked, id, cur.version)
		if err != nil {
			return s.dbError(ctx, m, "delete", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrPreconditionFailed
		}
		return nil
	})
	if errors.Is(err, apierr.ErrNotFound) {
		return s.deny(ctx, m, p, "delete", id, apierr.ErrNotFound)
	}
	if err != nil {
		return s.txError(ctx, m, "delete", err)
	}
	return nil
}

// Link kinds: what Link and Unlink attach to a document.
const (
	LinkUser  = "user"
	LinkGroup = "group"
)

// Link links a user or group (kind LinkUser or LinkGroup) to a document,
// so that linked_users or linked_group_* rules may grant it access; out
// receives the document. Linking what is already linked changes nothing.
// The caller needs the model's read and link rules on the document, else
// 404 (AC-2); the user or group must exist (400 otherwise).
func (s *Service) Link(ctx context.Context, modelName string, id uuid.UUID, kind string, target uuid.UUID, out json.Unmarshaler) error {
	return s.link(ctx, modelName, id, kind, target, false, out)
}

// Unlink removes a link Link made; the caller needs the model's read and
// unlink rules on the document. Removing a link that is not there changes
// nothing.
func (s *Service) Unlink(ctx context.Context, modelName string, id uuid.UUID, kind string, target uuid.UUID, out json.Unmarshaler) error {
	return s.link(ctx, modelName, id, kind, target, true, out)
}

// linkTargets are the column and the table checked for existence, by kind.
var linkTargets = map[string]struct{ column, exists, field string }{
	LinkUser:  {"user_ids", "SELECT EXISTS (SELECT FROM users WHERE id = $1)", "/user_id"},
	LinkGroup: {"group_ids", "SELECT EXISTS (SELECT FROM groups WHERE id = $1)", "/group_id"},
}

func (s *Service) link(ctx context.Context, modelName string, id uuid.UUID, kind string, target uuid.UUID, unlink bool, out json.Unmarshaler) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	m, err := s.model(modelName)
	if err != nil {
		return err
	}
	lt, ok := linkTargets[kind]
	if !ok {
		return fmt.Errorf("document link: unknown kind %q", kind)
	}
	op, rules, stmt := "link_"+kind, m.access.link, m.sql.link[lt.column]
	if unlink {
		op, rules, stmt = "unlink_"+kind, m.access.unlink, m.sql.unlink[lt.column]
	}
	a := newParams(id)
	cond, ok := accessCond(p, a, rules, m.access.read)
	if !ok {
		return s.deny(ctx, m, p, op, id, apierr.ErrNotFound)
	}
	var res []byte
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := lockDoc(ctx, tx, m.sql.lock.with(cond), a)
		if err != nil {
			return err
		}
		if !rules.allows(p, cur.meta) || !m.access.read.allows(p, cur.meta) {
			return apierr.ErrNotFound
		}
		if !unlink {
			var exists bool
			if err := tx.QueryRow(ctx, lt.exists, target).Scan(&exists); err != nil {
				return fmt.Errorf("check link target: %w", err)
			}
			if !exists {
				return apierr.Validation("The "+kind+" does not exist.",
					apierr.FieldError{Field: lt.field, Code: apierr.DetailInvalid, Message: "No " + kind + " has this id."})
			}
		}
		err = tx.QueryRow(ctx, stmt, id, target, s.timestamp()).Scan(&res)
		if errors.Is(err, pgx.ErrNoRows) {
			// Already linked (or not linked): nothing changes.
			err = tx.QueryRow(ctx, m.sql.getAny, id).Scan(&res)
		}
		if err != nil {
			return s.dbError(ctx, m, op, err)
		}
		return nil
	})
	if errors.Is(err, apierr.ErrNotFound) {
		return s.deny(ctx, m, p, op, id, apierr.ErrNotFound)
	}
	if err != nil {
		return s.txError(ctx, m, op, err)
	}
	return decodeOut(out, res)
}

// locked is a document read under FOR UPDATE.
type locked struct {
	version int64
	meta    docMeta
	data    []byte
}

func lockDoc(ctx context.Context, tx pgx.Tx, q string, a *params) (locked, error) {
	var cur locked
	err := tx.QueryRow(ctx, q, a.args...).Scan(&cur.version, &cur.meta.creatorID, &cur.meta.userIDs, &cur.meta.groupIDs, &cur.data)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return cur, apierr.ErrNotFound
		}
		return cur, fmt.Errorf("lock document: %w", err)
	}
	return cur, nil
}

// decodeObject marshals a request value and decodes it strictly (IN-2);
// it must be a JSON object.
func decodeObject(v json.Marshaler) (map[string]any, []byte, error) {
	if v == nil {
		return nil, nil, apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "A JSON object body is required.")
	}
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, nil, apierr.Wrap(err, http.StatusBadRequest, apierr.CodeBadRequest, "The body cannot be encoded as JSON.")
	}
	parsed, err := strictjson.Parse(raw)
	if err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) {
			return nil, nil, apierr.Validation("The body is not acceptable JSON.",
				apierr.FieldError{Field: se.Pointer(), Code: se.Code, Message: se.Message})
		}
		return nil, nil, fmt.Errorf("decode body: %w", err)
	}
	obj, ok := parsed.(map[string]any)
	if !ok {
		return nil, nil, apierr.Validation("The body must be a JSON object.",
			apierr.FieldError{Field: "", Code: "type", Message: "The body must be a JSON object."})
	}
	return obj, raw, nil
}

func decodeOut(out json.Unmarshaler, res []byte) error {
	if out == nil {
		return nil
	}
	if err := out.UnmarshalJSON(res); err != nil {
		return fmt.Errorf("decode stored document into %T: %w", out, err)
	}
	return nil
}

// applyDefaults sets the top-level defaults of absent fields.
func (m *model) applyDefaults(doc map[string]any) bool {
	changed := false
	for _, d := range m.defaults {
		if _, ok := doc[d.name]; !ok {
			doc[d.name] = deepCopy(d.value)
			changed = true
		}
	}
	return changed
}

// normalise rewrites integral numbers written with a fraction or exponent
// (1.0, 1e2), which JSON Schema counts as integers, into the plain form a
// bigint column accepts.
func (m *model) normalise(doc map[string]any) bool {
	changed := false
	for _, name := range m.integers {
		n, ok := doc[name].(json.Number)
		if !ok || !strings.ContainsAny(string(n), ".eE") {
			continue
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok || !r.IsInt() || r.Num().BitLen() > 256 {
			continue
		}
		doc[name] = json.Number(r.Num().String())
		changed = true
	}
	return changed
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

// mergePatch applies an RFC 7396 merge patch to target (which it may
// modify) and returns the result.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = make(map[string]any, len(pm))
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

// ParseIfMatch reads an If-Match header holding a document version: `"3"`,
// `3` or `W/"3"`. An empty header or `*` asks for no check (check false).
// Anything else is a 400.
func ParseIfMatch(h string) (version int64, check bool, err error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return 0, false, nil
	}
	v := strings.TrimPrefix(h, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	bad := apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, `If-Match must be a document version, such as "3".`)
	if v == "" || len(v) > 19 {
		return 0, false, bad
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false, bad
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, false, bad
	}
	return n, true, nil
}

// txError maps what a transaction returned: API errors pass through,
// database errors are classified, the rest is internal.
func (s *Service) txError(ctx context.Context, m *model, op string, err error) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return err
	}
	return s.dbError(ctx, m, op, err)
}

// dbError maps a PostgreSQL error to its public face. Constraint and data
// errors are the client's (400/409); everything else is internal (500,
// cause kept for the log, never shown).
func (s *Service) dbError(ctx context.Context, m *model, op string, err error) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23502": // not_null_violation
			f := m.fieldFor(pe.ColumnName, pe.ConstraintName)
			e := apierr.Validation("The document is invalid.", apierr.FieldError{Field: f, Code: apierr.DetailRequired, Message: "This field is required."})
			e.Cause = err
			return e
		case pe.Code == "23514": // check_violation
			f := m.fieldFor(pe.ColumnName, pe.ConstraintName)
			e := apierr.Validation("The document is invalid.", apierr.FieldError{Field: f, Code: apierr.DetailInvalid, Message: "The value breaks a constraint of this field."})
			e.Cause = err
			return e
		case pe.Code == "23505": // unique_violation
			return apierr.Wrap(err, http.StatusConflict, apierr.CodeConflict, "A document with these values already exists.")
		case strings.HasPrefix(pe.Code, "22"): // data_exception: out of range, bad date, ...
			s.logger.DebugContext(ctx, "document value rejected by the database", "model", m.name, "op", op, "code", pe.Code)
			e := apierr.Validation("A value is out of range or malformed.")
			e.Cause = err
			return e
		}
	}
	return fmt.Errorf("document %s %s: %w", op, m.name, err)
}

// fieldFor names the field (as a JSON pointer) a constraint error is about,
// or "" when it cannot be told.
func (m *model) fieldFor(columnName, constraint string) string {
	if f, ok := m.byColumn[columnName]; ok {
		return "/" + f
	}
	if constraint == "" {
		return ""
	}
	// PostgreSQL names column constraints <table>_<column>_check.
	c := strings.TrimSuffix(strings.TrimPrefix(constraint, m.table+"_"), "_check")
	if f, ok := m.byColumn[c]; ok {
		return "/" + f
	}
	best := ""
	for col := range m.byColumn {
		if len(col) > len(best) && (strings.Contains(constraint, "_"+col+"_") || strings.HasSuffix(constraint, "_"+col)) {
			best = col
		}
	}
	if best != "" {
		return "/" + m.byColumn[best]
	}
	return ""
}
