package sqldb

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCacheMax bounds the prepared statements kept: the adapter's queries are
// constant text (placeholders for every value), so a few dozen exist; the
// bound only guards against a future query built with varying text.
const stmtCacheMax = 256

// stmtCache keeps one prepared statement per query text for SQLite. Without
// it modernc.org/sqlite parses and plans every statement on every call, a
// quarter of a vote's CPU; database/sql prepares a cached *sql.Stmt once per
// pooled connection and reuses it. (pgx already caches prepared statements
// per connection, so PostgreSQL does not use this.)
//
// A statement is prepared in the background the first time its text is
// seen, and that first call runs the text directly: preparing on the pool
// needs a free connection, and a caller inside a transaction holds one (and,
// on SQLite, the write lock) — with every pooled connection held by such
// callers, waiting here would deadlock until the busy timeout.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // being prepared, or failed to prepare (never retried)
	closed  bool
	wg      sync.WaitGroup
}

// prepared returns the cached statement for query on q (the pool, or a
// transaction), or nil when the caller should run the text directly.
func (d *DB) prepared(ctx context.Context, q Querier, query string) *sql.Stmt {
	if d.postgres {
		return nil
	}
	st := d.stmts.lookup(d.pool, query)
	if st == nil {
		return nil
	}
	switch q := q.(type) {
	case *sql.DB:
		return st
	case *sql.Tx:
		// Prepares on the transaction's own connection if needed, and
		// keeps it there for the next transactions on that connection.
		return q.StmtContext(ctx, st)
	}
	return nil
}

func (c *stmtCache) lookup(db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if c.closed || c.pending[query] || len(c.stmts)+len(c.pending) >= stmtCacheMax {
		return nil
	}
	if c.pending == nil {
		c.pending, c.stmts = map[string]bool{}, map[string]*sql.Stmt{}
	}
	c.pending[query] = true
	c.wg.Add(1)
	go c.prepare(db, query)
	return nil
}

func (c *stmtCache) prepare(db *sql.DB, query string) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := db.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		return // stays pending: the direct calls report the error with context
	}
	if c.closed {
		_ = st.Close()
		return
	}
	delete(c.pending, query)
	c.stmts[query] = st
}

// cached reports how many statements are ready (tests).
func (c *stmtCache) cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stmts)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
}
