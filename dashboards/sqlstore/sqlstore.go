// Package sqlstore implements the civic services on a relational database:
// SQLite through the pure-Go modernc.org/sqlite driver (the default) and
// PostgreSQL through pgx's database/sql driver (production). One portable SQL
// schema, versioned with goose and embedded in the binary, runs at Open.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/cd06/smartdeal/dashboards/civic"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements the civic services on SQLite or PostgreSQL.
type Store struct {
	db         *sql.DB
	postgres   bool
	log        *slog.Logger
	stmts      stmtCache
	statements atomic.Int64 // run so far (Statements)
}

var (
	_ civic.UserService       = (*Store)(nil)
	_ civic.ProposalService   = (*Store)(nil)
	_ civic.VoteService       = (*Store)(nil)
	_ civic.DiscussionService = (*Store)(nil)
	_ civic.FieldService      = (*Store)(nil)
	_ civic.AuditService      = (*Store)(nil)
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

// Open connects, runs the migrations and seeds the themes.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{postgres: IsPostgres(cfg.DSN), log: cfg.Logger}
	var err error
	dialect := goose.DialectSQLite3
	if s.postgres {
		dialect = goose.DialectPostgres
		s.db, err = sql.Open("pgx", cfg.DSN)
		if cfg.MaxOpenConns == 0 {
			cfg.MaxOpenConns = 16
		}
	} else {
		// secure_delete overwrites deleted content with zeros (in the page,
		// in freed pages and in index entries), so an erased account leaves
		// no bytes in the file (DeleteUser, scrub).
		path := strings.TrimPrefix(strings.TrimPrefix(cfg.DSN, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		dsn := "file:" + path + "?_pragma=busy_timeout(" + strconv.FormatInt(cfg.BusyTimeout.Milliseconds(), 10) + ")" +
			"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_txlock=immediate"
		s.db, err = sql.Open("sqlite", dsn)
		if cfg.MaxOpenConns == 0 {
			cfg.MaxOpenConns = 8
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	s.db.SetMaxOpenConns(cfg.MaxOpenConns)
	s.db.SetMaxIdleConns(cfg.MaxOpenConns)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("ping db: %w", err)
	}
	if err := s.migrate(ctx, dialect); err != nil {
		s.db.Close()
		return nil, err
	}
	for _, t := range civic.SeedThemes {
		t := t
		if _, err := s.exec(ctx, s.db, `INSERT INTO themes (id, name_fr, name_en) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			t.ID, t.NameFR, t.NameEN); err != nil {
			s.db.Close()
			return nil, fmt.Errorf("seed themes: %w", err)
		}
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context, dialect goose.Dialect) error {
	p, err := goose.NewProvider(dialect, s.db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// Close closes the prepared statements and the database.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// Ping checks the database connection (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// DB returns the underlying pool (tests and benchmarks).
func (s *Store) DB() *sql.DB { return s.db }

// Statements reports how many SQL statements the store has run through
// its methods since it was opened: tests count what a page costs.
func (s *Store) Statements() int64 { return s.statements.Load() }

// Postgres reports whether the store runs on PostgreSQL.
func (s *Store) Postgres() bool { return s.postgres }

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebind turns ? placeholders into $n for PostgreSQL. Queries in this package
// never contain a literal '?'.
func (s *Store) rebind(q string) string {
	if !s.postgres {
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

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	s.statements.Add(1)
	if st := s.prepared(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, s.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	s.statements.Add(1)
	if st := s.prepared(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, s.rebind(query), args...)
}

func (s *Store) row(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	s.statements.Add(1)
	if st := s.prepared(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, s.rebind(query), args...)
}

// tx runs fn in a transaction; SQLite transactions are IMMEDIATE (_txlock),
// so writers serialize instead of failing on a lock upgrade.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
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

func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return civic.Errorf(civic.ENOTFOUND, "%s not found", what)
	}
	return err
}

// audit records an entry inside the caller's transaction.
func (s *Store) audit(ctx context.Context, q querier, actor, action, target, detail string) error {
	_, err := s.exec(ctx, q, `INSERT INTO audit (id, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		civic.NewID(), ms(time.Now()), actor, action, target, detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Record implements civic.AuditService.
func (s *Store) Record(ctx context.Context, e civic.AuditEntry) error {
	return s.audit(ctx, s.db, e.Actor, e.Action, e.Target, e.Detail)
}

// AuditLog returns the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]*civic.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, s.db, `SELECT id, at, actor, action, target, detail FROM audit ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return scanAudit(rows)
}

func scanAudit(rows *sql.Rows) ([]*civic.AuditEntry, error) {
	defer rows.Close()
	var out []*civic.AuditEntry
	for rows.Next() {
		var e civic.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, &e)
	}
	return out, rows.Err()
}
