package document

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/auth"
)

// Statements returns the SQL the service runs for a model to create a
// document ($1 id, $2 creator, $3 timestamp, $4 data as jsonb) and to read
// one by id for a caller whose access depends on the document ($1 id,
// $2 caller). Load tests run the same SQL through raw pgx to measure the
// service's overhead; query-plan tests EXPLAIN it.
func (s *Service) Statements(modelName string) (insert, getByID string, err error) {
	m, err := s.model(modelName)
	if err != nil {
		return "", "", err
	}
	// As a caller whose access depends on the document, with no groups.
	// Rules that grant such a caller nothing yield no statement: never an
	// unfiltered one.
	cond, ok := m.access.read.cond(&auth.Principal{}, newParams(uuid.Nil))
	if !ok {
		return "", "", fmt.Errorf("model %q: its read rules grant a caller without permissions nothing", modelName)
	}
	return m.sql.insert, m.sql.get.with(cond), nil
}
