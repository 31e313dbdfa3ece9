package sqldb

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// What differs between SQLite and PostgreSQL, and how the columns hold
// times (Unix milliseconds, UTC), in one place for every sub-store.

// rebind turns ? placeholders into $n for PostgreSQL.
func (d *DB) rebind(q string) string {
	if !d.postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// InIDs is the condition "col is one of ids" with its one argument: the
// statement text does not depend on how many ids there are, so the
// prepared-statement cache keeps one statement per query, not one per
// length. SQLite reads a JSON array; PostgreSQL a text[] (pgx encodes the
// []string).
func (d *DB) InIDs(col string, ids []string) (string, any, error) {
	if d.postgres {
		return col + ` = ANY(?)`, ids, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", nil, fmt.Errorf("encode ids: %w", err)
	}
	return col + ` IN (SELECT value FROM json_each(?))`, string(b), nil
}

// IsUnique reports whether err is a unique-constraint violation.
func IsUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsForeignKey reports whether err is a foreign-key violation.
func IsForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// NotFound maps sql.ErrNoRows to civic's ENOTFOUND for what; other errors
// are returned as they are.
func NotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return civic.Errorf(civic.ENOTFOUND, "%s not found", what)
	}
	return err
}

// MS is how a time is stored: Unix milliseconds.
func MS(t time.Time) int64 { return t.UnixMilli() }

// FromMS is the UTC time of a stored MS.
func FromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// FromNullMS is the time of a nullable column, nil for NULL.
func FromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMS(v.Int64)
	return &t
}

// NullMS is the argument for a nullable time column: NULL for nil.
func NullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return MS(*t)
}

// Truncate cuts s to at most n bytes without splitting a character
// (PostgreSQL refuses invalid UTF-8).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
