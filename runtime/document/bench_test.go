package document

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/auth"
)

// The benchmarks compare the service with raw pgx running the same SQL (and,
// for reference, a hand-written typed query), so their ratio shows the
// service's own cost:
//
//	go test -run '^$' -bench . ./runtime/document/

const benchBody = `{"systolic":120,"diastolic":80,"weight":72.5,"arm":"right","taken_at":"2026-11-26T08:00:00Z","device":{"serial":"BP-1"},"note":"after breakfast"}`

type benchEnv struct {
	pool *pgxpool.Pool
	svc  *Service
	m    *model
	p    *auth.Principal
	ctx  context.Context
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	pool := newDB(b)
	svc, err := New(pool, testProject(measurementModel(ownerAccess)), nil)
	if err != nil {
		b.Fatal(err)
	}
	p := user()
	return &benchEnv{pool: pool, svc: svc, m: svc.models["measurement"], p: p, ctx: as(context.Background(), p)}
}

// seed stores n documents and returns their ids.
func (e *benchEnv) seed(b *testing.B, n int) []uuid.UUID {
	b.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		var d doc
		if err := e.svc.Create(e.ctx, "measurement", rawJSON(benchBody), &d); err != nil {
			b.Fatal(err)
		}
		ids[i] = d.ID
	}
	return ids
}

func BenchmarkCreate(b *testing.B) {
	e := newBenchEnv(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var out doc
		for pb.Next() {
			if err := e.svc.Create(e.ctx, "measurement", rawJSON(benchBody), &out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRawPgxCreate(b *testing.B) {
	e := newBenchEnv(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var out doc
		for pb.Next() {
			var res []byte
			err := e.pool.QueryRow(e.ctx, e.m.sql.insert, uuid.Must(uuid.NewV7()), e.p.UserID, time.Now(), []byte(benchBody)).Scan(&res)
			if err == nil {
				err = out.UnmarshalJSON(res)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	e := newBenchEnv(b)
	ids := e.seed(b, 200)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var out doc
		for pb.Next() {
			if err := e.svc.Get(e.ctx, "measurement", ids[rand.IntN(len(ids))], &out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRawPgxGet(b *testing.B) {
	e := newBenchEnv(b)
	ids := e.seed(b, 200)
	_, get, err := e.svc.Statements("measurement")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var out doc
		for pb.Next() {
			var res []byte
			err := e.pool.QueryRow(e.ctx, get, ids[rand.IntN(len(ids))], e.p.UserID).Scan(&res)
			if err == nil {
				err = out.UnmarshalJSON(res)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// typedRow is what a hand-written backend would scan and marshal.
type typedRow struct {
	ID              uuid.UUID   `json:"id"`
	CreatorID       uuid.UUID   `json:"creator_id"`
	UserIDs         []uuid.UUID `json:"user_ids"`
	GroupIDs        []uuid.UUID `json:"group_ids"`
	Status          string      `json:"status"`
	StatusChangedAt time.Time   `json:"status_changed_at"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
	Version         int64       `json:"version"`
	Data            struct {
		Systolic  int64           `json:"systolic"`
		Diastolic *int64          `json:"diastolic,omitempty"`
		Weight    *float64        `json:"weight,omitempty"`
		Arm       *string         `json:"arm,omitempty"`
		TakenAt   time.Time       `json:"taken_at"`
		Device    json.RawMessage `json:"device,omitempty"`
		Tags      json.RawMessage `json:"tags,omitempty"`
		Note      *string         `json:"note,omitempty"`
	} `json:"data"`
}

const typedSelect = `SELECT id, creator_id, user_ids, group_ids, status, status_changed_at, created_at, updated_at, version,
	systolic, diastolic, weight, arm, taken_at, device, tags, note FROM data_measurement WHERE id = $1 AND creator_id = $2`

func BenchmarkRawPgxTypedGet(b *testing.B) {
	e := newBenchEnv(b)
	ids := e.seed(b, 200)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var out doc
		for pb.Next() {
			var r typedRow
			d := &r.Data
			err := e.pool.QueryRow(e.ctx, typedSelect, ids[rand.IntN(len(ids))], e.p.UserID).Scan(
				&r.ID, &r.CreatorID, &r.UserIDs, &r.GroupIDs, &r.Status, &r.StatusChangedAt, &r.CreatedAt, &r.UpdatedAt, &r.Version,
				&d.Systolic, &d.Diastolic, &d.Weight, &d.Arm, &d.TakenAt, &d.Device, &d.Tags, &d.Note)
			var res []byte
			if err == nil {
				res, err = json.Marshal(&r)
			}
			if err == nil {
				err = out.UnmarshalJSON(res)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRawPgxTypedCreate(b *testing.B) {
	e := newBenchEnv(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var out doc
		for pb.Next() {
			var in typedRow
			if err := json.Unmarshal([]byte(benchBody), &in.Data); err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			in.ID, in.CreatorID, in.UserIDs, in.GroupIDs = uuid.Must(uuid.NewV7()), e.p.UserID, []uuid.UUID{e.p.UserID}, []uuid.UUID{}
			in.Status, in.StatusChangedAt, in.CreatedAt, in.UpdatedAt, in.Version = "active", now, now, now, 1
			d := &in.Data
			_, err := e.pool.Exec(e.ctx, `INSERT INTO data_measurement (id, creator_id, user_ids, status, status_changed_at, created_at,
				updated_at, version, systolic, diastolic, weight, arm, taken_at, device, tags, note)
				VALUES ($1, $2, $3, $4, $5, $5, $5, 1, $6, $7, $8, $9, $10, $11, $12, $13)`,
				in.ID, in.CreatorID, in.UserIDs, in.Status, now, d.Systolic, d.Diastolic, d.Weight, d.Arm, d.TakenAt, d.Device, d.Tags, d.Note)
			var res []byte
			if err == nil {
				res, err = json.Marshal(&in)
			}
			if err == nil {
				err = out.UnmarshalJSON(res)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
