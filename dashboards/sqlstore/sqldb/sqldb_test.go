package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestDialect: what the sub-stores rely on behaves alike on SQLite and
// PostgreSQL — ? placeholders, the one-argument id list (none, one, many,
// hostile text), the mapping of unique and foreign-key violations and of a
// missing row, a failed transaction leaving nothing, and the statement
// count.
func TestDialect(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := sqltest.DB(t, b) // a pool of its own on the store's database (schema)
			if db.Postgres() != (b.Name == "postgres") {
				t.Fatalf("Postgres() = %v on %s", db.Postgres(), b.Name)
			}
			pool := db.Pool()
			for _, q := range []string{
				`CREATE TABLE dialect_parent (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)`,
				`CREATE TABLE dialect_child (id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES dialect_parent (id))`,
			} {
				if _, err := db.Exec(ctx, pool, q); err != nil {
					t.Fatal(err)
				}
			}
			before := db.Statements()
			ids := []string{"a", "b", "c", "x'); DROP TABLE dialect_parent; --", "é"}
			for _, id := range ids {
				if _, err := db.Exec(ctx, pool, `INSERT INTO dialect_parent (id, name) VALUES (?, ?)`, id, "name "+id); err != nil {
					t.Fatal(err)
				}
			}
			if n := db.Statements() - before; n != int64(len(ids)) {
				t.Errorf("Statements counted %d for %d inserts", n, len(ids))
			}

			for _, tc := range []struct {
				ids  []string
				want string
			}{
				{nil, ""},
				{[]string{"b"}, "b"},
				{[]string{"c", "a", "missing", "a"}, "a,c"},
				{[]string{ids[3], "é"}, ids[3] + ",é"},
			} {
				cond, arg, err := db.InIDs("id", tc.ids)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := db.Query(ctx, pool, `SELECT id FROM dialect_parent WHERE `+cond+` ORDER BY id`, arg)
				if err != nil {
					t.Fatalf("InIDs %q: %v", tc.ids, err)
				}
				var got []string
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					got = append(got, id)
				}
				rows.Close()
				if err := rows.Err(); err != nil || strings.Join(got, ",") != tc.want {
					t.Errorf("InIDs %q: %q %v, want %q", tc.ids, got, err, tc.want)
				}
			}

			_, err := db.Exec(ctx, pool, `INSERT INTO dialect_parent (id, name) VALUES (?, ?)`, "d", "name a")
			if !sqldb.IsUnique(err) || sqldb.IsForeignKey(err) {
				t.Errorf("duplicate name: %v (unique %v)", err, sqldb.IsUnique(err))
			}
			_, err = db.Exec(ctx, pool, `INSERT INTO dialect_child (id, parent) VALUES (?, ?)`, "k", "nobody")
			if !sqldb.IsForeignKey(err) || sqldb.IsUnique(err) {
				t.Errorf("unknown parent: %v (foreign key %v)", err, sqldb.IsForeignKey(err))
			}
			if sqldb.IsUnique(nil) || sqldb.IsForeignKey(nil) || sqldb.IsUnique(errors.New("disk full")) {
				t.Error("an error that is no violation maps to one")
			}

			var name string
			err = sqldb.NotFound(db.Row(ctx, pool, `SELECT name FROM dialect_parent WHERE id = ?`, "missing").Scan(&name), "parent")
			if civic.ErrorCode(err) != civic.ENOTFOUND {
				t.Errorf("missing row: %v (code %q)", err, civic.ErrorCode(err))
			}
			other := errors.New("other")
			if sqldb.NotFound(other, "parent") != other || sqldb.NotFound(nil, "parent") != nil {
				t.Error("NotFound changes errors other than sql.ErrNoRows")
			}

			// A failed transaction leaves nothing; its error is fn's.
			boom := errors.New("boom")
			err = db.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := db.Exec(ctx, tx, `INSERT INTO dialect_parent (id, name) VALUES (?, ?)`, "t", "in tx"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Errorf("Tx: %v, want fn's error", err)
			}
			var n int
			if err := db.Row(ctx, pool, `SELECT COUNT(*) FROM dialect_parent WHERE id = ?`, "t").Scan(&n); err != nil || n != 0 {
				t.Errorf("rolled-back row: %d %v", n, err)
			}
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := db.Exec(ctx, tx, `INSERT INTO dialect_parent (id, name) VALUES (?, ?)`, "t", "in tx")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if err := db.Row(ctx, pool, `SELECT COUNT(*) FROM dialect_parent WHERE id = ?`, "t").Scan(&n); err != nil || n != 1 {
				t.Errorf("committed row: %d %v", n, err)
			}
		})
	}
}

// TestOpenConfig: a config without a DSN or with negative bounds is refused
// before any connection; an unreachable database fails at Open.
func TestOpenConfig(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []sqldb.Config{{}, {DSN: "  "}, {DSN: "x.db", BusyTimeout: -time.Second}, {DSN: "x.db", MaxOpenConns: -1}} {
		if _, err := sqldb.Open(ctx, cfg); err == nil {
			t.Errorf("Open(%+v) accepted", cfg)
		}
	}
	if _, err := sqldb.Open(ctx, sqldb.Config{DSN: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}); err == nil {
		t.Error("Open on a closed port succeeded")
	}
}

// TestTimesAndText: times round-trip through milliseconds in UTC, NULL
// stays nil, and Truncate never splits a character.
func TestTimesAndText(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 15, 30, 123_000_000, time.FixedZone("CET", 3600))
	if got := sqldb.FromMS(sqldb.MS(at)); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("round trip %v → %v", at, got)
	}
	if sqldb.NullMS(nil) != nil || sqldb.FromNullMS(sql.NullInt64{}) != nil {
		t.Error("NULL is not nil")
	}
	if p := sqldb.FromNullMS(sql.NullInt64{Int64: sqldb.MS(at), Valid: true}); p == nil || !p.Equal(at) {
		t.Errorf("FromNullMS %v", p)
	}
	if v, ok := sqldb.NullMS(&at).(int64); !ok || v != sqldb.MS(at) {
		t.Errorf("NullMS %v", sqldb.NullMS(&at))
	}
	for _, s := range []string{"", "abc", "équipe de crue", strings.Repeat("é", 300), "ab\xff\xfecd"} {
		got := sqldb.Truncate(s, 5)
		if len(got) > 5 || !utf8.ValidString(got) || utf8.ValidString(s) && !strings.HasPrefix(s, got) {
			t.Errorf("Truncate(%q, 5) = %q", s, got)
		}
	}
}
