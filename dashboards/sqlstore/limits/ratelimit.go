// Package limits is the SQL adapter's rate limiter and sign-in throttle: the
// counters every API replica on one database shares (migrations 00002 and
// 00004 of dashboards/sqlstore), over the core in package sqldb.
package limits

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
)

// RateSweepGrace is how long a window's row outlives the window. Replicas
// compute windows from their own clocks: a replica running behind must still
// find (and count into) the row of a window that another one already sees as
// over, so rows are deleted only once every sane clock has left the window.
const RateSweepGrace = time.Minute

// rateSweepEvery is how often one replica deletes expired windows.
const rateSweepEvery = time.Minute

// RateLimiter is a fixed-window rate limiter kept in the database, so that
// every API replica on the same PostgreSQL database counts into the same
// windows (it implements dashboards/api.RateLimiter). Works on SQLite ≥ 3.35
// too (RETURNING), though one SQLite process is better served in memory.
//
// Each Allow is one statement,
//
//	INSERT … ON CONFLICT (bucket, window_start) DO UPDATE SET n = n + 1 RETURNING n
//
// so the increment and the read of the new count are atomic: two replicas can
// never both read "one slot left" and both take it (PostgreSQL locks the row
// for the update; SQLite has one writer).
type RateLimiter struct {
	db  *sqldb.DB
	now func() time.Time

	mu     sync.Mutex
	secret []byte // HMAC key, shared by all replicas through rate_limit_secret

	nextSweep atomic.Int64 // unix ms
}

// New returns a rate limiter on db (sqlstore.Store.RateLimiter).
func New(db *sqldb.DB) *RateLimiter {
	return &RateLimiter{db: db, now: time.Now}
}

// Allow records one request for key in the current window of length window
// (aligned on the Unix epoch) and reports whether it is among the first max;
// if not, retryAfter is the time left in the window.
func (r *RateLimiter) Allow(ctx context.Context, key string, max int, window time.Duration) (bool, time.Duration, error) {
	if window < time.Millisecond {
		return false, 0, fmt.Errorf("rate limit %q: window %s too short", key, window)
	}
	bucket, err := r.bucket(ctx, key)
	if err != nil {
		return false, 0, err
	}
	now := r.now()
	nowMS, winMS := now.UnixMilli(), window.Milliseconds()
	start := nowMS - nowMS%winMS
	end := start + winMS
	var n int64
	if err := r.db.Row(ctx, r.db.Pool(), `INSERT INTO rate_limits (bucket, window_start, expires, n) VALUES (?, ?, ?, 1)
		ON CONFLICT (bucket, window_start) DO UPDATE SET n = rate_limits.n + 1
		RETURNING n`, bucket, start, end).Scan(&n); err != nil {
		return false, 0, fmt.Errorf("rate limit count: %w", err)
	}
	r.maybeSweep(ctx, nowMS)
	if n > int64(max) {
		return false, time.Duration(end-nowMS) * time.Millisecond, nil
	}
	return true, 0, nil
}

// maybeSweep deletes expired windows at most once per rateSweepEvery per
// replica. Its failure does not fail the request: the rows will go next time.
func (r *RateLimiter) maybeSweep(ctx context.Context, nowMS int64) {
	next := r.nextSweep.Load()
	if nowMS < next || !r.nextSweep.CompareAndSwap(next, nowMS+rateSweepEvery.Milliseconds()) {
		return
	}
	if _, err := r.Sweep(ctx); err != nil {
		r.db.Log().Warn("rate limit sweep failed", "err", err)
	}
}

// Sweep deletes the windows that ended more than RateSweepGrace ago, and the
// sign-in throttle's rows that expired as long ago, and returns how many rows
// went.
func (r *RateLimiter) Sweep(ctx context.Context) (int64, error) {
	before := r.now().Add(-RateSweepGrace).UnixMilli()
	res, err := r.db.Exec(ctx, r.db.Pool(), `DELETE FROM rate_limits WHERE expires < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("rate limit sweep: %w", err)
	}
	n, _ := res.RowsAffected()
	m, err := r.sweepThrottle(ctx, before)
	return n + m, err
}

// bucket is what is stored for key: 16 bytes of HMAC-SHA256 under the
// deployment's secret, hex. An IP address hashed without a secret could be
// recovered by hashing all 2³² of them; with it, the rows alone say nothing.
func (r *RateLimiter) bucket(ctx context.Context, key string) (string, error) {
	secret, err := r.loadSecret(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16]), nil
}

// loadSecret returns the HMAC key, creating it on first use. Every replica
// inserts a random candidate and keeps whichever row won (ON CONFLICT DO
// NOTHING), so all of them hash alike without any configuration.
func (r *RateLimiter) loadSecret(ctx context.Context) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secret != nil {
		return r.secret, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	if _, err := r.db.Exec(ctx, r.db.Pool(), `INSERT INTO rate_limit_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("rate limit secret: %w", err)
	}
	var h string
	if err := r.db.Row(ctx, r.db.Pool(), `SELECT secret FROM rate_limit_secret WHERE id = 1`).Scan(&h); err != nil {
		return nil, fmt.Errorf("rate limit secret: %w", err)
	}
	secret, err := hex.DecodeString(h)
	if err != nil || len(secret) < 16 {
		return nil, errors.New("rate limit secret: malformed row")
	}
	r.secret = secret
	return secret, nil
}
