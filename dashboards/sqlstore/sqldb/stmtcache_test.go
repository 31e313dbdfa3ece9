package sqldb

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestStmtCacheInsideTransactions: with every pooled connection held by a
// transaction (one connection here), a query text seen for the first time
// inside a transaction runs at once, rather than waiting for a connection
// to prepare it on (the deadlock that held concurrent SQLite writers until
// their busy timeout); the statement is cached afterwards and reused inside
// and outside transactions, concurrently.
func TestStmtCacheInsideTransactions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{DSN: filepath.Join(t.TempDir(), "db.sqlite"), MaxOpenConns: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const q = `SELECT ? + 1`
	before := s.stmts.cached()
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.Row(ctx, tx, q, 41).Scan(&n); err != nil || n != 42 {
			t.Errorf("first use in a transaction: %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for s.stmts.cached() == before {
		if ctx.Err() != nil {
			t.Fatal("the statement was never prepared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			var err error
			if i%2 == 0 {
				err = s.Tx(ctx, func(tx *sql.Tx) error { return s.Row(ctx, tx, q, i).Scan(&n) })
			} else {
				err = s.Row(ctx, s.pool, q, i).Scan(&n)
			}
			if err != nil || n != i+1 {
				t.Errorf("cached use %d: %d, %v", i, n, err)
			}
		}()
	}
	wg.Wait()
}
