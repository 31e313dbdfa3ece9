// Package auditstore is the SQL adapter's audit log (civic.AuditService):
// who did what to which record, written inside the transaction of the change
// it records, over the core in package sqldb. sqlstore.Store embeds it.
package auditstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
)

// Store keeps the audit table.
type Store struct {
	db *sqldb.DB
}

var _ civic.AuditService = (*Store)(nil)

// New returns the audit log on db.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

// Write records an entry on q, db's pool or the transaction of the change
// it records, so that the change and its entry commit together. (A
// function, not a method: sqlstore.Store embeds Store, and its callers write
// through sqlstore's own audit.)
func Write(ctx context.Context, db *sqldb.DB, q sqldb.Querier, actor, action, target, detail string) error {
	_, err := db.Exec(ctx, q, `INSERT INTO audit (id, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		civic.NewID(), sqldb.MS(time.Now()), actor, action, target, detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Record implements civic.AuditService.
func (s *Store) Record(ctx context.Context, e civic.AuditEntry) error {
	return Write(ctx, s.db, s.db.Pool(), e.Actor, e.Action, e.Target, e.Detail)
}

// AuditLog returns the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]*civic.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT id, at, actor, action, target, detail FROM audit ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return Scan(rows)
}

// Scan reads and closes rows of (id, at, actor, action, target, detail).
func Scan(rows *sql.Rows) ([]*civic.AuditEntry, error) {
	defer rows.Close()
	var out []*civic.AuditEntry
	for rows.Next() {
		var e civic.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		e.At = sqldb.FromMS(at)
		out = append(out, &e)
	}
	return out, rows.Err()
}
