package limits_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/sqlstore/limits"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestSignInThrottle: 30 concurrent attempts for one bucket over two stores
// on the same database (two replicas) take exactly the 3 free slots, then the
// rest wait the delay; a success clears the bucket and remembers the known
// client until its time-to-live; a bucket is forgotten after its wait plus
// forget; what is stored is hashed; Sweep deletes what expired — on SQLite
// and PostgreSQL.
func TestSignInThrottle(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			lims := []*limits.RateLimiter{b.Store.RateLimiter(), sqltest.Replica(t, b).Store.RateLimiter()}
			ctx := context.Background()
			const free, calls = 3, 30
			delay := func(n int) time.Duration {
				if n < free {
					return 0
				}
				return time.Hour << (n - free)
			}
			const forget = 24 * time.Hour
			now := time.Unix(1_900_000_000, 0)
			const bucket = "signin-account:camille@example.fr"
			var allowed atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ok, wait, err := lims[i%2].SignInAttempt(ctx, bucket, now, delay, forget)
					switch {
					case err != nil:
						t.Error(err)
					case ok:
						allowed.Add(1)
					case wait != time.Hour:
						t.Errorf("wait %s, want 1h", wait)
					}
				}()
			}
			close(start)
			wg.Wait()
			if allowed.Load() != free {
				t.Fatalf("%d attempts allowed, want %d", allowed.Load(), free)
			}
			// After the wait, one more; then the wait doubles.
			if ok, _, err := lims[1].SignInAttempt(ctx, bucket, now.Add(time.Hour), delay, forget); err != nil || !ok {
				t.Fatalf("after the wait: %v %v", ok, err)
			}
			if ok, wait, _ := lims[0].SignInAttempt(ctx, bucket, now.Add(time.Hour+time.Minute), delay, forget); ok || wait != 2*time.Hour-time.Minute {
				t.Fatalf("doubled wait: %v %s", ok, wait)
			}
			// Another bucket is unaffected.
			if ok, _, err := lims[0].SignInAttempt(ctx, bucket+"|203.0.113.7", now, delay, forget); err != nil || !ok {
				t.Fatalf("other bucket: %v %v", ok, err)
			}

			// A success clears the bucket and remembers the client.
			const known = "signin-known:signin-account:camille@example.fr|203.0.113.7"
			if k, err := lims[1].SignInKnown(ctx, known, now); err != nil || k {
				t.Fatalf("known before any success: %v %v", k, err)
			}
			if err := lims[0].SignInSucceeded(ctx, bucket, known, now.Add(2*time.Hour), 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			if ok, _, err := lims[1].SignInAttempt(ctx, bucket, now.Add(2*time.Hour), delay, forget); err != nil || !ok {
				t.Fatalf("after a success: %v %v", ok, err)
			}
			if k, err := lims[1].SignInKnown(ctx, known, now.Add(3*time.Hour)); err != nil || !k {
				t.Fatalf("known after a success: %v %v", k, err)
			}
			if k, _ := lims[1].SignInKnown(ctx, known, now.Add(2*time.Hour+30*24*time.Hour)); k {
				t.Fatal("still known after its time-to-live")
			}

			// Failures are forgotten after the wait plus forget.
			for range free + 2 {
				_, _, _ = lims[0].SignInAttempt(ctx, bucket, now.Add(3*time.Hour), delay, forget)
			}
			later := now.Add(3*time.Hour + time.Hour + forget)
			if ok, _, err := lims[0].SignInAttempt(ctx, bucket, later, delay, forget); err != nil || !ok {
				t.Fatalf("not forgotten: %v %v", ok, err)
			}

			var rows int
			var stored string
			if err := b.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*), MIN(bucket) FROM signin_throttle`).Scan(&rows, &stored); err != nil {
				t.Fatal(err)
			}
			if rows != 2 || strings.Contains(stored, "camille") || strings.Contains(stored, "203.0.113") || len(stored) != 32 {
				t.Fatalf("%d rows, bucket %q", rows, stored)
			}
			limits.SetRateClock(lims[0], func() time.Time { return later.Add(365 * 24 * time.Hour) })
			if n, err := lims[0].Sweep(ctx); err != nil || n != 3 {
				t.Fatalf("sweep a year later: %d rows deleted (want 2 buckets and 1 known client), %v", n, err)
			}
		})
	}
}
