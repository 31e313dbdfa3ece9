package limits

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The per-account sign-in throttle of dashboards/api (its AccountThrottle),
// in the tables of migration 00004, so that every replica on the database
// counts one account's attempts together. Buckets are hashed like the rate
// limits' (bucket: HMAC under rate_limit_secret).

// SignInAttempt reserves one password check for bucket at now, or refuses
// it with the wait until the next. The read and the update are one
// transaction holding the row (SELECT … FOR UPDATE on PostgreSQL; SQLite's
// transactions are immediate, one writer), so concurrent attempts on any
// replica take the slots one at a time.
func (r *RateLimiter) SignInAttempt(ctx context.Context, bucket string, now time.Time, delay func(n int) time.Duration, forget time.Duration) (bool, time.Duration, error) {
	b, err := r.bucket(ctx, bucket)
	if err != nil {
		return false, 0, err
	}
	nowMS := now.UnixMilli()
	lock := ""
	if r.db.Postgres() {
		lock = " FOR UPDATE"
	}
	allowed, wait := false, time.Duration(0)
	err = r.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := r.db.Exec(ctx, tx, `INSERT INTO signin_throttle (bucket, attempts, next_at, expires) VALUES (?, 0, 0, 0)
			ON CONFLICT (bucket) DO NOTHING`, b); err != nil {
			return err
		}
		var n, next, expires int64
		if err := r.db.Row(ctx, tx, `SELECT attempts, next_at, expires FROM signin_throttle WHERE bucket = ?`+lock, b).Scan(&n, &next, &expires); err != nil {
			return err
		}
		if expires <= nowMS { // new, or forgotten
			n, next = 0, 0
		}
		if nowMS < next {
			wait = time.Duration(next-nowMS) * time.Millisecond
			return nil
		}
		n++
		next = 0 // a free attempt sets no time: replicas' clocks and the
		// order of concurrent transactions need not agree to the millisecond
		if d := delay(int(n)); d > 0 {
			next = nowMS + d.Milliseconds()
		}
		expires = max(next, nowMS) + forget.Milliseconds()
		if _, err := r.db.Exec(ctx, tx, `UPDATE signin_throttle SET attempts = ?, next_at = ?, expires = ? WHERE bucket = ?`, n, next, expires, b); err != nil {
			return err
		}
		allowed = true
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("sign-in throttle: %w", err)
	}
	r.maybeSweep(ctx, r.now().UnixMilli())
	return allowed, wait, nil
}

// SignInSucceeded clears bucket and remembers known until now+ttl.
func (r *RateLimiter) SignInSucceeded(ctx context.Context, bucket, known string, now time.Time, ttl time.Duration) error {
	b, err := r.bucket(ctx, bucket)
	if err != nil {
		return err
	}
	k, err := r.bucket(ctx, known)
	if err != nil {
		return err
	}
	if _, err := r.db.Exec(ctx, r.db.Pool(), `DELETE FROM signin_throttle WHERE bucket = ?`, b); err != nil {
		return fmt.Errorf("sign-in throttle clear: %w", err)
	}
	if _, err := r.db.Exec(ctx, r.db.Pool(), `INSERT INTO signin_known (bucket, expires) VALUES (?, ?)
		ON CONFLICT (bucket) DO UPDATE SET expires = excluded.expires`, k, now.Add(ttl).UnixMilli()); err != nil {
		return fmt.Errorf("sign-in throttle known client: %w", err)
	}
	return nil
}

// SignInKnown reports whether known is remembered at now.
func (r *RateLimiter) SignInKnown(ctx context.Context, known string, now time.Time) (bool, error) {
	k, err := r.bucket(ctx, known)
	if err != nil {
		return false, err
	}
	var n int
	if err := r.db.Row(ctx, r.db.Pool(), `SELECT COUNT(*) FROM signin_known WHERE bucket = ? AND expires > ?`, k, now.UnixMilli()).Scan(&n); err != nil {
		return false, fmt.Errorf("sign-in throttle known client: %w", err)
	}
	return n > 0, nil
}

// sweepThrottle deletes the forgotten sign-in buckets and known clients.
func (r *RateLimiter) sweepThrottle(ctx context.Context, nowMS int64) (int64, error) {
	var total int64
	for _, q := range []string{`DELETE FROM signin_throttle WHERE expires < ?`, `DELETE FROM signin_known WHERE expires < ?`} {
		res, err := r.db.Exec(ctx, r.db.Pool(), q, nowMS)
		if err != nil {
			return total, fmt.Errorf("sign-in throttle sweep: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
