package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestClientIPBehindProxy: per-IP sign-in limits and the audit log see the
// client named by a trusted proxy's X-Forwarded-For (its right-most
// untrusted hop, so a forged left-most entry buys no fresh budget), and see
// the connection's address when the proxy is not trusted.
func TestClientIPBehindProxy(t *testing.T) {
	signIn := func(t *testing.T, base, xff string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/auth/signin", strings.NewReader(`{"email":"nobody@example.fr","password":"wrong password 1"}`))
		req.Header.Set("Content-Type", "application/json")
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("trusted proxy", func(t *testing.T) {
		e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignInLimit: 2, TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8"}})
		base := serve(t, e)
		for i, step := range []struct {
			xff  string
			want int
		}{
			{"203.0.113.7", 401},
			{"203.0.113.7, 10.1.2.3", 401}, // through a second, trusted proxy
			{"203.0.113.7", 429},
			{"198.51.100.1, 203.0.113.7", 429}, // forged left-most entry: still 203.0.113.7
			{"garbage, 203.0.113.7", 429},
			{"203.0.113.8", 401}, // another citizen
			{"", 401},            // no header: the proxy itself (127.0.0.1)
		} {
			if got := signIn(t, base, step.xff); got != step.want {
				t.Fatalf("step %d (X-Forwarded-For %q): %d, want %d", i, step.xff, got, step.want)
			}
		}
		log, err := e.st.AuditLog(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, a := range log {
			if a.Action == "auth.signin_failed" {
				seen[a.Detail]++
			}
		}
		if seen["203.0.113.7"] != 2 || seen["203.0.113.8"] != 1 || seen["127.0.0.1"] != 1 || len(seen) != 3 {
			t.Fatalf("audited sign-in failures by address: %v", seen)
		}
	})

	t.Run("untrusted proxy", func(t *testing.T) {
		e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignInLimit: 2})
		base := serve(t, e)
		for i, xff := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
			want := 401
			if i == 2 {
				want = 429 // every request is 127.0.0.1's, whatever it claims
			}
			if got := signIn(t, base, xff); got != want {
				t.Fatalf("request %d (X-Forwarded-For %q): %d, want %d", i, xff, got, want)
			}
		}
	})

	t.Run("bad config", func(t *testing.T) {
		for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0.1:80"} {
			cfg := api.Config{TrustedProxies: []string{bad}}
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "trusted_proxies") {
				t.Errorf("%q: %v", bad, err)
			}
		}
	})
}
