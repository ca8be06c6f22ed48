package db

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID makes pgx encode github.com/google/uuid values as binary
// uuids. Without it pgx takes uuid.UUID's driver.Valuer path (format to a
// string, parse it back), which was a tenth of a get-by-id's CPU.
func registerUUID(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
}

func tryWrapUUID(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch v := value.(type) {
	case uuid.UUID:
		return &uuidPlan{}, pgtype.UUID{Bytes: v, Valid: true}, true
	case []uuid.UUID:
		ids := make([]pgtype.UUID, len(v))
		for i, id := range v {
			ids[i] = pgtype.UUID{Bytes: id, Valid: true}
		}
		return &uuidSlicePlan{}, ids, true
	}
	return nil, nil, false
}

type uuidPlan struct{ next pgtype.EncodePlan }

func (p *uuidPlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidPlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgtype.UUID{Bytes: value.(uuid.UUID), Valid: true}, buf)
}

type uuidSlicePlan struct{ next pgtype.EncodePlan }

func (p *uuidSlicePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidSlicePlan) Encode(value any, buf []byte) ([]byte, error) {
	v := value.([]uuid.UUID)
	ids := make([]pgtype.UUID, len(v))
	for i, id := range v {
		ids[i] = pgtype.UUID{Bytes: id, Valid: true}
	}
	return p.next.Encode(ids, buf)
}
