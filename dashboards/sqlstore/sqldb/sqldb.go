// Package sqldb is the core of the SQL adapter (dashboards/sqlstore): the
// connection to SQLite (modernc.org/sqlite, the default) or PostgreSQL (pgx's
// database/sql driver), the dialect differences between the two, the
// prepared-statement cache, transactions, goose migrations and the mapping of
// driver errors. The domain sub-stores under dashboards/sqlstore run their
// SQL through a *DB; package sqlstore composes them into one Store.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Config says which database to open.
type Config struct {
	// DSN is a PostgreSQL URL (postgres:// or postgresql://) or a SQLite file
	// path (optionally prefixed with "sqlite:" or "file:"). Required.
	DSN string
	// BusyTimeout is SQLite's wait for a lock. (optional) defaults to 5s.
	BusyTimeout time.Duration
	// MaxOpenConns bounds the pool. (optional) defaults to 16 for PostgreSQL
	// and 8 for SQLite.
	MaxOpenConns int
	// Logger (optional) defaults to slog.Default().
	Logger *slog.Logger
}

// Validate checks the config and fills defaults.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DSN) == "" {
		return errors.New("db: required (SQLite path or postgres:// URL)")
	}
	if c.BusyTimeout < 0 {
		return errors.New("db.busy_timeout: must not be negative")
	}
	if c.BusyTimeout == 0 {
		c.BusyTimeout = 5 * time.Second
	}
	if c.MaxOpenConns < 0 {
		return errors.New("db.max_open_conns: must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// DB is one database pool with its dialect and statement cache. Its methods
// are safe for concurrent use.
type DB struct {
	pool       *sql.DB
	postgres   bool
	log        *slog.Logger
	stmts      stmtCache
	statements atomic.Int64 // run so far (Statements)
}

// Open connects and pings; it runs no migration (Migrate).
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &DB{postgres: IsPostgres(cfg.DSN), log: cfg.Logger}
	var err error
	if d.postgres {
		d.pool, err = sql.Open("pgx", cfg.DSN)
		if cfg.MaxOpenConns == 0 {
			cfg.MaxOpenConns = 16
		}
	} else {
		// secure_delete overwrites deleted content with zeros (in the page,
		// in freed pages and in index entries), so an erased account leaves
		// no bytes in the file (sqlstore's DeleteUser, scrub).
		path := strings.TrimPrefix(strings.TrimPrefix(cfg.DSN, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		dsn := "file:" + path + "?_pragma=busy_timeout(" + strconv.FormatInt(cfg.BusyTimeout.Milliseconds(), 10) + ")" +
			"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_txlock=immediate"
		d.pool, err = sql.Open("sqlite", dsn)
		if cfg.MaxOpenConns == 0 {
			cfg.MaxOpenConns = 8
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	d.pool.SetMaxOpenConns(cfg.MaxOpenConns)
	d.pool.SetMaxIdleConns(cfg.MaxOpenConns)
	if err := d.pool.PingContext(ctx); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("ping db: %w", err)
	}
	return d, nil
}

// Migrate runs the goose migrations of fsys (*.sql at its root) that the
// database has not run yet.
func (d *DB) Migrate(ctx context.Context, fsys fs.FS) error {
	dialect := goose.DialectSQLite3
	if d.postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, d.pool, fsys)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		d.log.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// Close closes the prepared statements and the pool.
func (d *DB) Close() error {
	d.stmts.close()
	return d.pool.Close()
}

// Pool returns the underlying pool: the Querier for statements outside a
// transaction.
func (d *DB) Pool() *sql.DB { return d.pool }

// Postgres reports whether the database is PostgreSQL (else SQLite).
func (d *DB) Postgres() bool { return d.postgres }

// Log returns the logger the database was opened with.
func (d *DB) Log() *slog.Logger { return d.log }

// Statements reports how many SQL statements have run through Exec, Query
// and Row since Open: tests count what a page costs.
func (d *DB) Statements() int64 { return d.statements.Load() }

// Querier is what runs a statement: the pool (Pool) or a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Exec runs query on q. Queries are written with ? placeholders for both
// databases, never a literal '?', and constant text (values are arguments),
// so the statement cache keeps one statement per query.
func (d *DB) Exec(ctx context.Context, q Querier, query string, args ...any) (sql.Result, error) {
	d.statements.Add(1)
	if st := d.prepared(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, d.rebind(query), args...)
}

// Query runs query on q (see Exec).
func (d *DB) Query(ctx context.Context, q Querier, query string, args ...any) (*sql.Rows, error) {
	d.statements.Add(1)
	if st := d.prepared(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, d.rebind(query), args...)
}

// Row runs query on q for one row (see Exec).
func (d *DB) Row(ctx context.Context, q Querier, query string, args ...any) *sql.Row {
	d.statements.Add(1)
	if st := d.prepared(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, d.rebind(query), args...)
}

// Tx runs fn in a transaction, committed if fn returns nil; SQLite
// transactions are IMMEDIATE (_txlock), so writers serialize instead of
// failing on a lock upgrade.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.pool.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
