package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// postClient keeps a connection per concurrent request of a test's burst;
// a test closes them when done (CloseIdleConnections), or the server's
// shutdown would wait for connections the transport dialled and never used.
var postClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}

// post sends a JSON (or form) body as the client xff through the trusted
// proxy and returns the status, the Retry-After and the body.
func post(t *testing.T, base, path, xff, ct, body string) (int, int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := postClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, ra, b
}

func signInBody(email, password string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return string(b)
}

// TestSignInAccountThrottle: guessing one account's password from four
// addresses (over two replicas sharing PostgreSQL, or one SQLite process)
// gets 3 checks, then 429 with Retry-After, whatever the address; the right
// password from a guessing address is refused too (before, 40 wrong
// passwords from 4 addresses and then the right one got in). The waits
// double up to the cap, and a refused attempt does not lengthen them. The
// owner is never locked out: from the address they signed in from before,
// at once; from a new address, with the right password once the announced
// wait is over. An unknown e-mail address is throttled exactly alike
// (nothing says whether an account exists), and the sign-in form shares the
// throttle (a French 429 page; it says the longer of the wait and the
// one-minute window).
func TestSignInAccountThrottle(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			clk := newClock()
			cfg := api.Config{SignInLimit: 1000, SignInAccountFree: 3, SignInAccountDelay: 10 * time.Second,
				SignInAccountMaxDelay: 40 * time.Second, TrustedProxies: []string{"127.0.0.1"}}
			var bases []string
			var e *env
			if b.Name == "postgres" {
				b2 := sqltest.Replica(t, b)
				e = newEnv(t, b, nil, cfg, withClock(clk), withLimiter(b.Store.RateLimiter()))
				e2 := newEnv(t, b2, nil, cfg, withClock(clk), withLimiter(b2.Store.RateLimiter()))
				bases = []string{serve(t, e), serve(t, e2)}
			} else {
				e = newEnv(t, b, nil, cfg, withClock(clk))
				bases = []string{serve(t, e), serve(t, e)}
			}
			const owner, password, home = "owner@example.fr", "le bon mot de passe", "192.0.2.10"
			signUp(t, e, owner, password)
			signIn := func(i int, xff, email, pw string) (int, int, []byte) {
				return post(t, bases[i%2], "/api/v1/auth/signin", xff, "application/json", signInBody(email, pw))
			}
			if st, _, body := signIn(0, home, owner, password); st != 200 {
				t.Fatalf("owner at home: %d %s", st, body)
			}

			// The attack: 40 wrong passwords from 4 addresses, both replicas.
			attack := func(email string) (got map[int]int, detail string) {
				got = map[int]int{}
				for i := range 40 {
					st, ra, body := signIn(i, fmt.Sprintf("198.51.100.%d", 1+i%4), email, fmt.Sprintf("essai %d", i))
					got[st]++
					if st == 429 {
						var p map[string]any
						_ = json.Unmarshal(body, &p)
						if p["code"] != civic.ETOOMANY || ra < 1 || ra > 10 || p["retry_after"] != float64(ra) {
							t.Fatalf("429: Retry-After %d, %v", ra, p)
						}
						detail = p["detail"].(string)
					}
				}
				return got, detail
			}
			got, detailOwner := attack(owner)
			if got[401] != 3 || got[429] != 37 {
				t.Fatalf("40 guesses: %v, want 3×401 and 37×429", got)
			}
			// The right password from a guessing address checks nothing.
			if st, _, _ := signIn(1, "198.51.100.1", owner, password); st != 429 {
				t.Fatalf("right password from the attacker's address: %d, want 429", st)
			}
			// An unknown account looks the same.
			got, detailNobody := attack("nobody@example.fr")
			if got[401] != 3 || got[429] != 37 || detailNobody != detailOwner {
				t.Fatalf("unknown account: %v %q, want 3×401 and 37×429 and %q", got, detailNobody, detailOwner)
			}
			// The owner at home is not held up.
			if st, _, body := signIn(1, home, owner, password); st != 200 {
				t.Fatalf("owner at home during the attack: %d %s", st, body)
			}
			// The form shares the throttle: a French page with the wait.
			st, _, page := post(t, bases[0], "/connexion", "198.51.100.3", "application/x-www-form-urlencoded",
				url.Values{"email": {owner}, "password": {password}}.Encode())
			if st != 429 || !strings.Contains(string(page), "Trop de tentatives de connexion : réessayez dans 1\u00a0min.") {
				t.Fatalf("form during the attack: %d %s", st, page)
			}

			// Each further check waits twice as long, up to the cap.
			for i, want := range []int{20, 40, 40} {
				_, ra, _ := signIn(i, "198.51.100.2", owner, "encore faux")
				clk.Advance(time.Duration(ra) * time.Second)
				if st, _, _ := signIn(i, "198.51.100.2", owner, "encore faux"); st != 401 {
					t.Fatalf("after the wait %d: %d, want a check (401)", i, st)
				}
				if st, ra, _ := signIn(i+1, "198.51.100.4", owner, "encore faux"); st != 429 || ra != want {
					t.Fatalf("wait %d: %d Retry-After %d, want 429 and %d", i, st, ra, want)
				}
			}
			// The owner at a new address, with the right password, after the
			// announced wait: in, and the account's failures are cleared.
			_, ra, _ := signIn(0, "203.0.113.50", owner, password)
			clk.Advance(time.Duration(ra) * time.Second)
			if st, _, body := signIn(0, "203.0.113.50", owner, password); st != 200 {
				t.Fatalf("owner after the wait: %d %s", st, body)
			}
			if st, _, _ := signIn(1, "198.51.100.1", owner, "faux"); st != 401 {
				t.Fatalf("after the owner's sign-in the failures start over: %d", st)
			}
		})
	}
}

// TestSignUpLimits: 100 sign-ups in a few seconds from 20 addresses of one
// /24 create 20 accounts (the per-network limit), from 20 addresses of 20
// networks 30 (the limit for everybody, 30 here), and from 20 /64s of one
// IPv6 /48 20. Before, all 100 were accepted (5 per address and minute).
func TestSignUpLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(i int) string
		want int
	}{
		{"one IPv4 /24", func(i int) string { return fmt.Sprintf("198.51.100.%d", 1+i) }, 20},
		{"20 IPv4 networks", func(i int) string { return fmt.Sprintf("203.0.%d.7", i) }, 30},
		{"one IPv6 /48", func(i int) string { return fmt.Sprintf("2001:db8:5:%x::1", i) }, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignUpTotalLimit: 30, TrustedProxies: []string{"127.0.0.1"}})
			base := serve(t, e)
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := map[int]int{}
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("spam%d@example.fr", i), "password": "0123456789ab", "name": "Spam"})
					st, ra, b := post(t, base, "/api/v1/auth/signup", tc.addr(i%20), "application/json", string(body))
					if st == 429 && (ra < 1 || !strings.Contains(string(b), `"rate_limited"`)) {
						t.Errorf("429 without Retry-After: %s", b)
					}
					mu.Lock()
					got[st]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			postClient.CloseIdleConnections()
			var accounts int
			if err := e.st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users WHERE email LIKE 'spam%'`).Scan(&accounts); err != nil {
				t.Fatal(err)
			}
			if accounts != tc.want || got[201] != tc.want || got[429] != 100-tc.want {
				t.Fatalf("%d accounts, answers %v; want %d", accounts, got, tc.want)
			}
		})
	}
}

// TestIPv6ClientPrefix: per-address limits count an IPv6 /64 as one client
// (a host picks any address in its /64): two sign-ins from one /64 use its
// budget of 2, a third address of it is refused, another /64 is not.
func TestIPv6ClientPrefix(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignInLimit: 2, SignInAccountFree: -1, TrustedProxies: []string{"127.0.0.1"}})
	base := serve(t, e)
	for i, step := range []struct {
		xff  string
		want int
	}{
		{"2001:db8:1:2::1", 401},
		{"2001:db8:1:2:8000::2", 401},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", 429},
		{"2001:db8:1:3::1", 401},
		{"::ffff:203.0.113.9", 401}, // IPv4-mapped: the IPv4 address
		{"203.0.113.9", 401},
		{"203.0.113.9", 429},
	} {
		if st, _, b := post(t, base, "/api/v1/auth/signin", step.xff, "application/json", signInBody("x@example.fr", "faux")); st != step.want {
			t.Fatalf("step %d (%s): %d, want %d: %s", i, step.xff, st, step.want, b)
		}
	}
}
