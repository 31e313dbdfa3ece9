// Package sqltest opens real sqlstore databases for tests: a SQLite file in the
// test's temp dir and a PostgreSQL schema of its own on the project's server
// (SMARTDEAL_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test),
// dropped when the test ends, so parallel tests never collide.
package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
)

// DefaultPostgresURL is the project's test server (trust auth, database test).
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Backend is one store under test.
type Backend struct {
	Name  string
	Store *sqlstore.Store
	DSN   string
}

// Stores opens one store per backend: SQLite then PostgreSQL.
func Stores(t testing.TB) []Backend {
	t.Helper()
	return []Backend{SQLite(t), Postgres(t)}
}

// SQLite opens a store on a fresh SQLite file (WAL, busy timeout).
func SQLite(t testing.TB) Backend {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "civic.db")
	return Backend{Name: "sqlite", Store: open(t, dsn), DSN: dsn}
}

var seq atomic.Int64

// Postgres opens a store in a fresh schema of the test PostgreSQL database.
func Postgres(t testing.TB) Backend {
	t.Helper()
	base := os.Getenv("SMARTDEAL_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgresURL
	}
	schema := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres %s: create schema: %v (is PostgreSQL running? pg_ctlcluster ... main start)", base, err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	sep := "?"
	if containsQuery(base) {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	return Backend{Name: "postgres", Store: open(t, dsn), DSN: dsn}
}

// Replica opens another store on b's database, with its own pool, as a
// second API replica would (for PostgreSQL, the same schema; for SQLite, the
// same file). It is closed when the test ends, before b's schema is dropped.
func Replica(t testing.TB, b Backend) Backend {
	t.Helper()
	return Backend{Name: b.Name, Store: open(t, b.DSN), DSN: b.DSN}
}

// DB opens the adapter's core (sqldb) on b's database, with a pool of its
// own, as sqlstore.Open hands it to the sub-stores: their tests build one
// sub-store on it. It is closed when the test ends.
func DB(t testing.TB, b Backend) *sqldb.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqldb.Open(ctx, sqldb.Config{DSN: b.DSN, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open %s: %v", b.DSN, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func containsQuery(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			return true
		}
	}
	return false
}

func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := sqlstore.Open(ctx, sqlstore.Config{DSN: dsn, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
