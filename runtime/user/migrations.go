package user

import (
	"embed"

	"github.com/exhgen/exhgen/runtime/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the identity migrations (users and the JWT signing
// keys of runtime/auth), named "core/0001_identity.sql" and so on. They are
// core migrations: apply them before the project's own.
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("user: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}
