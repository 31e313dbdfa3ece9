package api_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// openLive opens a live stream as the client xff (through the trusted
// proxy 127.0.0.1). With an open stream it returns it after its first line;
// otherwise the refusal's status and problem.
func openLive(t *testing.T, base, xff string) (stream io.ReadCloser, status int, problem map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/live?series=var-estuaire/level-1/water_level", nil)
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p := checkProblem(t, "live as "+xff, resp, b, resp.StatusCode)
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || p["retry_after"] != float64(ra) {
			t.Fatalf("live as %s: %d without a Retry-After matching retry_after (%q, %v)", xff, resp.StatusCode, resp.Header.Get("Retry-After"), p)
		}
		return nil, resp.StatusCode, p
	}
	if l, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(l, ": connected") {
		t.Fatalf("live as %s: first line %q %v", xff, l, err)
	}
	return resp.Body, 200, nil
}

// TestLiveCaps: live streams are capped per client address (2 here; an
// IPv6 /64 is one client) with 429 and Retry-After, and in total (4 here)
// with 503 and Retry-After; a stream that ends frees its slot (the client
// leaving is noticed at the next keep-alive), and so does the shutdown.
// Before, every request got a stream.
func TestLiveCaps(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{LiveMaxPerClient: 2, LiveMaxStreams: 4, LiveKeepAlive: 50 * time.Millisecond,
		TrustedProxies: []string{"127.0.0.1"}})
	base := serve(t, e)
	var open []io.ReadCloser
	mustOpen := func(xff string) {
		s, status, p := openLive(t, base, xff)
		if s == nil {
			t.Fatalf("stream for %s refused: %d %v", xff, status, p)
		}
		open = append(open, s)
	}
	refused := func(xff string, want int, code string) {
		if s, status, p := openLive(t, base, xff); s != nil || status != want || p["code"] != code {
			if s != nil {
				s.Close()
			}
			t.Fatalf("stream for %s: %d %v, want %d %s", xff, status, p, want, code)
		}
	}
	mustOpen("203.0.113.1")
	mustOpen("203.0.113.1")
	refused("203.0.113.1", 429, civic.ETOOMANY)
	mustOpen("2001:db8:1:2::1")
	mustOpen("2001:db8:1:2:aaaa::2")                     // same /64
	refused("2001:db8:1:2:ffff::3", 429, civic.ETOOMANY) // same /64 again
	refused("198.51.100.9", 503, civic.EUNAVAILABLE)     // 4 open: full

	open[0].Close() // a client leaves: its slot is freed at the next keep-alive
	testenv.Eventually(t, 10*time.Second, func() bool {
		s, _, _ := openLive(t, base, "198.51.100.9")
		if s != nil {
			open = append(open, s)
		}
		return s != nil
	}, "slot not freed after a stream ended")
	refused("198.51.100.10", 503, civic.EUNAVAILABLE)
	// 203.0.113.1's other stream ends: the total has room again for it.
	open[1].Close()
	testenv.Eventually(t, 10*time.Second, func() bool {
		s, _, _ := openLive(t, base, "203.0.113.1")
		if s != nil {
			open = append(open, s)
		}
		return s != nil
	}, "per-client slot not freed after a stream ended")

	// The hub closing (shutdown) ends every stream and frees every slot.
	e.srv.Hub().Close()
	for _, s := range open {
		_, _ = io.Copy(io.Discard, s)
		s.Close()
	}
	if got := metricValue(t, e, `smartdeal_api_live_clients`); got != 0 {
		t.Fatalf("live clients after shutdown: %v", got)
	}
	if got := metricValue(t, e, `smartdeal_api_rate_limited_total{limit="live"}`); got != 2 {
		t.Fatalf(`rate_limited_total{limit="live"} %v, want 2`, got)
	}
}
