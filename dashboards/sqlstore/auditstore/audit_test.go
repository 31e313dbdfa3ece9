package auditstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/auditstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestAuditLog: entries written on the pool (Record) and inside a
// transaction (Write) come back newest first with what was written; an
// entry written in a transaction that fails is not kept; the limit is
// bounded (out of range → 100) — on SQLite and PostgreSQL, on the schema
// sqlstore.Open migrated.
func TestAuditLog(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := sqltest.DB(t, b) // a pool of its own on the store's database (schema)
			a := auditstore.New(db)
			for i := range 3 {
				if err := a.Record(ctx, civic.AuditEntry{Actor: "admin", Action: "test.record", Target: fmt.Sprint("t", i), Detail: "d'<é>"}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Millisecond) // distinct milliseconds: the order is the time's
			}
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				return auditstore.Write(ctx, db, tx, "admin", "test.tx", "t3", "")
			}); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				if err := auditstore.Write(ctx, db, tx, "admin", "test.rolledback", "t4", ""); err != nil {
					return err
				}
				return boom
			}); !errors.Is(err, boom) {
				t.Fatalf("failed transaction: %v", err)
			}
			log, err := a.AuditLog(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 4 || log[0].Action != "test.tx" || log[1].Target != "t2" || log[3].Target != "t0" || log[3].Detail != "d'<é>" ||
				log[0].ID == "" || log[0].At.IsZero() || log[0].At.Location() != time.UTC {
				t.Fatalf("log %+v", log)
			}
			if two, err := a.AuditLog(ctx, 2); err != nil || len(two) != 2 || two[0].ID != log[0].ID {
				t.Errorf("limit 2: %+v %v", two, err)
			}
			if all, err := a.AuditLog(ctx, 5000); err != nil || len(all) != 4 {
				t.Errorf("limit 5000: %d %v", len(all), err)
			}
		})
	}
}
