package app

import (
	"testing"

	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
