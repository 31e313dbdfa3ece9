package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCacheMax bounds the prepared statements kept: the package's queries are
// constant text (placeholders for every value), so a few dozen exist; the
// bound only guards against a future query built with varying text.
const stmtCacheMax = 256

// stmtCache keeps one prepared statement per query text for SQLite. Without
// it modernc.org/sqlite parses and plans every statement on every call, a
// quarter of a vote's CPU; database/sql prepares a cached *sql.Stmt once per
// pooled connection and reuses it. (pgx already caches prepared statements
// per connection, so PostgreSQL does not use this.)
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// prepared returns the cached statement for query on q (the pool, or a
// transaction), or nil when the caller should run the text directly.
func (s *Store) prepared(ctx context.Context, q querier, query string) *sql.Stmt {
	if s.postgres {
		return nil
	}
	st := s.stmts.get(ctx, s.db, query)
	if st == nil {
		return nil
	}
	switch q := q.(type) {
	case *sql.DB:
		return st
	case *sql.Tx:
		return q.StmtContext(ctx, st)
	}
	return nil
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	if len(c.stmts) >= stmtCacheMax {
		return nil
	}
	// Preparing under the lock is fine: it happens once per query text.
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the direct call reports the error with its context
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
}
