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

// freshWindow waits, if needed, until at least need is left in the current
// fixed window (aligned on the epoch like the limiter's), so a burst is not
// split over two windows.
func freshWindow(window, need time.Duration) {
	now := time.Now()
	if left := now.Truncate(window).Add(window).Sub(now); left < need {
		time.Sleep(left + 10*time.Millisecond)
	}
}

// TestRateLimiterAtomic: 100 concurrent Allow calls for one key, spread over
// two stores on the same database (two replicas, two pools), let exactly max
// through, on SQLite and PostgreSQL.
func TestRateLimiterAtomic(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			lims := []*limits.RateLimiter{b.Store.RateLimiter(), sqltest.Replica(t, b).Store.RateLimiter()}
			const max, calls, window = 7, 100, time.Minute
			ctx := context.Background()
			freshWindow(window, 20*time.Second)
			var allowed, denied atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ok, retry, err := lims[i%2].Allow(ctx, "vote:u:someone", max, window)
					switch {
					case err != nil:
						t.Error(err)
					case ok:
						allowed.Add(1)
					default:
						if retry <= 0 || retry > window {
							t.Errorf("retryAfter %s", retry)
						}
						denied.Add(1)
					}
				}()
			}
			close(start)
			wg.Wait()
			if allowed.Load() != max || denied.Load() != calls-max {
				t.Fatalf("allowed %d, denied %d; want %d and %d", allowed.Load(), denied.Load(), max, calls-max)
			}
			// Another key has its own budget.
			if ok, _, err := lims[1].Allow(ctx, "vote:u:someone-else", max, window); err != nil || !ok {
				t.Fatalf("other key: %v %v", ok, err)
			}
		})
	}
}

// TestRateLimiterWindow: once the window has passed, requests are allowed
// again; what is stored is a hash, never the key; expired rows are swept.
func TestRateLimiterWindow(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			r := b.Store.RateLimiter()
			ctx := context.Background()
			const key, max, window = "signin:203.0.113.7", 3, time.Second
			burst := func() (allowed int, retry time.Duration) {
				for range max + 2 {
					ok, ra, err := r.Allow(ctx, key, max, window)
					if err != nil {
						t.Fatal(err)
					}
					if ok {
						allowed++
					} else {
						retry = ra
					}
				}
				return allowed, retry
			}
			freshWindow(window, 800*time.Millisecond)
			n, retry := burst()
			if n != max || retry <= 0 || retry > window {
				t.Fatalf("first window: %d allowed, retry %s", n, retry)
			}
			time.Sleep(retry + 20*time.Millisecond)
			freshWindow(window, 800*time.Millisecond)
			if n, _ := burst(); n != max {
				t.Fatalf("after the window: %d allowed, want %d", n, max)
			}

			var rows int
			var bucket string
			if err := b.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*), MIN(bucket) FROM rate_limits`).Scan(&rows, &bucket); err != nil {
				t.Fatal(err)
			}
			if rows != 2 || strings.Contains(bucket, "203.0.113") || strings.Contains(bucket, "signin") || len(bucket) != 32 {
				t.Fatalf("%d rows, bucket %q", rows, bucket)
			}
			if n, err := r.Sweep(ctx); err != nil || n != 0 {
				t.Fatalf("sweep within the grace: %d %v", n, err)
			}
			limits.SetRateClock(r, func() time.Time { return time.Now().Add(limits.RateSweepGrace + 2*window) })
			if n, err := r.Sweep(ctx); err != nil || n != 2 {
				t.Fatalf("sweep after the grace: %d rows deleted, %v", n, err)
			}
		})
	}
}
