package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

func withLimiter(l api.RateLimiter) func(*api.Deps) {
	return func(d *api.Deps) { d.RateLimiter = l }
}

// freshWindow waits, if needed, until at least need is left in the current
// epoch-aligned window, so a burst is not split over two windows.
func freshWindow(window, need time.Duration) {
	now := time.Now()
	if left := now.Truncate(window).Add(window).Sub(now); left < need {
		time.Sleep(left + 10*time.Millisecond)
	}
}

// replicas starts two API servers on the same PostgreSQL database, each with
// its own pool and the store's SQL limiter, as two pods behind a load
// balancer; it returns them and their base URLs.
func replicas(t *testing.T, cfg api.Config) ([2]*env, [2]string) {
	t.Helper()
	b1 := sqltest.Postgres(t)
	b2 := sqltest.Replica(t, b1)
	e1 := newEnv(t, b1, nil, cfg, withLimiter(b1.Store.RateLimiter()))
	e2 := newEnv(t, b2, nil, cfg, withLimiter(b2.Store.RateLimiter()))
	return [2]*env{e1, e2}, [2]string{serve(t, e1), serve(t, e2)}
}

// burst sends n concurrent requests spread over the bases and counts the
// answers by status; every 429 must be a rate_limited problem with Retry-After.
func burst(t *testing.T, n int, bases [2]string, method, path, token, body string) map[int]int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var r io.Reader
			if body != "" {
				r = strings.NewReader(body)
			}
			req, _ := http.NewRequest(method, bases[i%2]+path, r)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 429 {
				p := checkProblem(t, method+" "+path, resp, b, 429)
				ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if p["code"] != civic.ETOOMANY || err != nil || ra < 1 || ra > 60 {
					t.Errorf("429: Retry-After %q, %v", resp.Header.Get("Retry-After"), p)
				}
			}
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// TestSharedRateLimitAcrossReplicas: with two API servers on one PostgreSQL
// database, the vote limit (per user) and the sign-in limit (per IP) hold
// across both: 20 concurrent requests spread over the two → exactly 5 pass.
func TestSharedRateLimitAcrossReplicas(t *testing.T) {
	cfg := api.Config{VoteLimit: 5, SignInLimit: 5}
	es, bases := replicas(t, cfg)
	_, tok := es[0].user(civic.RoleCitizen)
	p := es[0].idea(tok, 1, true)

	freshWindow(time.Minute, 20*time.Second)
	got := burst(t, 20, bases, "POST", "/api/v1/ideas/"+p.ID+"/vote", tok, "")
	if got[200] != 5 || got[429] != 15 {
		t.Fatalf("votes: %v, want 5×200 and 15×429", got)
	}
	// Another voter has a budget of their own, on either replica.
	_, other := es[1].user(civic.RoleCitizen)
	es[1].call("POST", "/api/v1/ideas/"+p.ID+"/vote", other, nil, 200, nil)

	got = burst(t, 20, bases, "POST", "/api/v1/auth/signin", "", `{"email":"nobody@example.fr","password":"wrong password"}`)
	if got[401] != 5 || got[429] != 15 {
		t.Fatalf("sign-ins: %v, want 5×401 and 15×429", got)
	}
	// The refusals are counted on the replica that refused them.
	var total int
	for _, e := range es {
		for _, kind := range []string{"vote", "signin"} {
			total += int(metricValue(t, e, `smartdeal_api_rate_limited_total{limit="`+kind+`"}`))
		}
	}
	if total != 30 {
		t.Fatalf("smartdeal_api_rate_limited_total summed over replicas and limits: %d, want 30", total)
	}
}

// TestRateLimitWindow: after the window, requests pass again — in memory
// (SQLite) and shared (PostgreSQL).
func TestRateLimitWindow(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			var opts []func(*api.Deps)
			if b.Name == "postgres" {
				opts = append(opts, withLimiter(b.Store.RateLimiter()))
			}
			const window = 2 * time.Second
			e := newEnv(t, b, nil, api.Config{VoteLimit: 2, RateWindow: window}, opts...)
			_, tok := e.user(civic.RoleCitizen)
			p := e.idea(tok, 1, true)
			path := "/api/v1/ideas/" + p.ID + "/vote"
			count := func() (ok, limited int) {
				for range 4 {
					resp, body := e.do("POST", path, tok, nil)
					switch resp.StatusCode {
					case 200:
						ok++
					case 429:
						if ra := resp.Header.Get("Retry-After"); ra != "1" && ra != "2" {
							t.Fatalf("Retry-After %q", ra)
						}
						limited++
					default:
						t.Fatalf("status %d: %s", resp.StatusCode, body)
					}
				}
				return ok, limited
			}
			freshWindow(window, 1500*time.Millisecond)
			if ok, limited := count(); ok != 2 || limited != 2 {
				t.Fatalf("first window: %d passed, %d limited", ok, limited)
			}
			time.Sleep(time.Until(time.Now().Truncate(window).Add(window)) + 20*time.Millisecond)
			freshWindow(window, 1500*time.Millisecond)
			if ok, limited := count(); ok != 2 || limited != 2 {
				t.Fatalf("next window: %d passed, %d limited", ok, limited)
			}
		})
	}
}

type brokenLimiter struct{}

func (brokenLimiter) Allow(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	return false, 0, errors.New("database unreachable")
}

// TestRateLimiterDown: when the shared store fails, votes pass (they need
// the database anyway) and sign-in / sign-up are refused with 503.
func TestRateLimiterDown(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{}, withLimiter(brokenLimiter{}))
	_, tok := e.user(civic.RoleCitizen)
	p := e.idea(tok, 1, true)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 200, nil)
	if pr := e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": "a@b.fr", "password": "x"}, 503); pr["code"] != civic.EUNAVAILABLE {
		t.Fatalf("%v", pr)
	}
	e.problem("POST", "/api/v1/auth/signup", "", map[string]any{"email": "a@b.fr", "password": "0123456789ab", "name": "A"}, 503)
}

// TestMemoryLimiter: exact under concurrency, new window after expiry, and
// bounded: past MaxKeys live windows a new key is refused until a sweep.
func TestMemoryLimiter(t *testing.T) {
	ctx := context.Background()
	m := api.NewMemoryLimiter()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	freshWindow(time.Minute, 10*time.Second)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _, _ := m.Allow(ctx, "k", 7, time.Minute); ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 7 {
		t.Fatalf("%d allowed, want 7", allowed.Load())
	}

	now := time.Unix(1_800_000_000, 0)
	b := &api.MemoryLimiter{MaxKeys: 3, Now: func() time.Time { return now }}
	for i := range 3 {
		if ok, _, _ := b.Allow(ctx, fmt.Sprint("ip", i), 1, time.Minute); !ok {
			t.Fatalf("key %d refused", i)
		}
	}
	if ok, retry, _ := b.Allow(ctx, "ip3", 1, time.Minute); ok || retry <= 0 {
		t.Fatalf("a 4th key fits in MaxKeys 3 (%v, %s)", ok, retry)
	}
	if ok, _, _ := b.Allow(ctx, "ip0", 1, time.Minute); ok {
		t.Fatal("ip0 allowed twice in one window")
	}
	now = now.Add(time.Minute)
	if ok, _, _ := b.Allow(ctx, "ip3", 1, time.Minute); !ok || b.Len() != 1 {
		t.Fatalf("after the window: %v, %d keys held", ok, b.Len())
	}
}
