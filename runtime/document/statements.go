package document

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
	get := m.sql.get.forms[1] // filtered by the read rules
	if get == "" {
		get = m.sql.get.forms[0]
	}
	return m.sql.insert, get, nil
}
