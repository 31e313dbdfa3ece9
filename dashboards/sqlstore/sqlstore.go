// Package sqlstore implements the civic services on a relational database:
// SQLite through the pure-Go modernc.org/sqlite driver (the default) and
// PostgreSQL through pgx's database/sql driver (production). One portable SQL
// schema, versioned with goose and embedded in the binary, runs at Open.
//
// The adapter is cut by domain: the connection, the dialect, the statement
// cache and transactions are package sqldb's; the alert tables are
// alertstore's, the rate limits and the sign-in throttle limits', a user's
// activity activitystore's, the audit log auditstore's. Store composes them
// with the domain files of this package (users, accounts, proposals, votes,
// field, notify, batch reads), so callers see one Store.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/activitystore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/alertstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/auditstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/limits"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// The sub-stores, embedded under unexported names: their methods are
// promoted to Store, their fields are not part of its API.
type (
	alerts     = alertstore.Store
	activities = activitystore.Store
	audits     = auditstore.Store
)

// Store implements the civic services on SQLite or PostgreSQL. Its alert
// methods (alerting.Store) are alertstore.Store's, Activity is
// activitystore.Store's, Record and AuditLog auditstore.Store's.
type Store struct {
	*alerts
	*activities
	*audits

	core     *sqldb.DB
	db       *sql.DB // core.Pool()
	postgres bool
	log      *slog.Logger
}

var (
	_ civic.UserService       = (*Store)(nil)
	_ civic.ProposalService   = (*Store)(nil)
	_ civic.VoteService       = (*Store)(nil)
	_ civic.DiscussionService = (*Store)(nil)
	_ civic.FieldService      = (*Store)(nil)
	_ civic.AuditService      = (*Store)(nil)
)

// Config says which database to open (sqldb.Config).
type Config = sqldb.Config

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool { return sqldb.IsPostgres(dsn) }

// RateLimiter is the rate limiter and sign-in throttle kept in the database
// (limits.RateLimiter).
type RateLimiter = limits.RateLimiter

// RateSweepGrace is how long a rate window's row outlives the window
// (limits.RateSweepGrace).
const RateSweepGrace = limits.RateSweepGrace

// Open connects, runs the migrations and seeds the themes.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	core, err := sqldb.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := core.Migrate(ctx, mustSub(migrations, "migrations")); err != nil {
		core.Close()
		return nil, err
	}
	s := &Store{core: core, db: core.Pool(), postgres: core.Postgres(), log: core.Log(), alerts: alertstore.New(core), audits: auditstore.New(core)}
	s.activities = activitystore.New(core, s)
	for _, t := range civic.SeedThemes {
		if _, err := s.exec(ctx, s.db, `INSERT INTO themes (id, name_fr, name_en) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			t.ID, t.NameFR, t.NameEN); err != nil {
			core.Close()
			return nil, fmt.Errorf("seed themes: %w", err)
		}
	}
	return s, nil
}

// Close closes the prepared statements and the database.
func (s *Store) Close() error { return s.core.Close() }

// Ping checks the database connection (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// DB returns the underlying pool (tests and benchmarks).
func (s *Store) DB() *sql.DB { return s.db }

// Statements reports how many SQL statements the store has run through
// its methods since it was opened: tests count what a page costs.
func (s *Store) Statements() int64 { return s.core.Statements() }

// Postgres reports whether the store runs on PostgreSQL.
func (s *Store) Postgres() bool { return s.postgres }

// RateLimiter returns the store's shared rate limiter.
func (s *Store) RateLimiter() *RateLimiter { return limits.New(s.core) }

// What the domain files of this package call: sqldb's, under the names
// they have always used.

type querier = sqldb.Querier

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return s.core.Exec(ctx, q, query, args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return s.core.Query(ctx, q, query, args...)
}

func (s *Store) row(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return s.core.Row(ctx, q, query, args...)
}

func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error { return s.core.Tx(ctx, fn) }

func isUnique(err error) bool { return sqldb.IsUnique(err) }

func isForeignKey(err error) bool { return sqldb.IsForeignKey(err) }

func ms(t time.Time) int64 { return sqldb.MS(t) }

func fromMS(v int64) time.Time { return sqldb.FromMS(v) }

func fromNullMS(v sql.NullInt64) *time.Time { return sqldb.FromNullMS(v) }

func notFound(err error, what string) error { return sqldb.NotFound(err, what) }

func nullMS(t *time.Time) any { return sqldb.NullMS(t) }

func truncate(s string, n int) string { return sqldb.Truncate(s, n) }

// audit records an entry inside the caller's transaction.
func (s *Store) audit(ctx context.Context, q querier, actor, action, target, detail string) error {
	return auditstore.Write(ctx, s.core, q, actor, action, target, detail)
}

func scanAudit(rows *sql.Rows) ([]*civic.AuditEntry, error) { return auditstore.Scan(rows) }
