package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// BenchmarkProposalPage measures GET /api/v1/ideas/{id}/page over HTTP: the
// proposal, its votes and 3 linked series of 7 days at 1-minute resolution
// (10,080 points each in InfluxDB) downsampled to 500 points each, against a
// local InfluxDB 1.8 and SQLite. Reports p50 and p95 latency, without the
// measurements cache ("cold": every view runs 3 InfluxQL aggregations, the
// engine "auto" picks on 1.8), with the Flux engine instead ("cold-flux": 3
// raw Flux reads folded in Go, the path for InfluxDB 2.x), and with the cache
// (30 s TTL, the cmd/api default).
func BenchmarkProposalPage(b *testing.B) {
	in := testenv.SharedInflux(b)
	b.Run("cold", func(b *testing.B) { benchPage(b, in, 0, measure.EngineAuto) })
	b.Run("cold-flux", func(b *testing.B) { benchPage(b, in, 0, measure.EngineFlux) })
	b.Run("cached", func(b *testing.B) { benchPage(b, in, 30*time.Second, measure.EngineAuto) })
	b.Run("html-cold", func(b *testing.B) { benchPage(b, in, 0, measure.EngineAuto, true) })
}

// benchPage measures the page's JSON data, or with html the French page
// itself (/idees/{id}: charts, value tables and each series' latest value).
func benchPage(b *testing.B, in *testenv.Influx, ttl time.Duration, engine string, html ...bool) {
	db := in.NewDatabase(b)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", CacheTTL: ttl, Engine: engine}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, sqltest.SQLite(b), meas, api.Config{PublicReadLimit: -1}) // one client reading hundreds of pages a minute
	e.field()
	_, citizen := e.user(civic.RoleCitizen)
	p := e.idea(citizen, 10, true)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", citizen, nil, 200, nil)
	now := time.Now().UTC().Truncate(time.Minute)
	var lines []string
	for _, q := range []string{"water_level", "temperature", "pm2_5"} {
		for i := range 7 * 24 * 60 {
			lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=%s,unit=x value=%d %d", q, i%97, now.Add(-time.Duration(i)*time.Minute).Unix()))
		}
		e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": p.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": q}, 201, nil)
	}
	writeLP(b, in.URL, db+"/autogen", lines)
	base := serve(b, e)
	url := base + "/api/v1/ideas/" + p.ID + "/page"
	asHTML := len(html) > 0 && html[0]
	if asHTML {
		url = base + "/idees/" + p.ID
	}
	get := func() time.Duration {
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 {
			b.Fatalf("%d %s", resp.StatusCode, body)
		}
		if asHTML {
			if n := strings.Count(string(body), "<polyline"); n != 3 || !strings.Contains(string(body), "Dernière valeur") {
				b.Fatalf("page has %d charts", n)
			}
			return d
		}
		var page struct {
			Votes  int                  `json:"votes"`
			Series []*series.SeriesData `json:"series"`
		}
		if err := json.Unmarshal(body, &page); err != nil || len(page.Series) != 3 || page.Votes != 1 {
			b.Fatalf("page %v", err)
		}
		for _, s := range page.Series {
			if len(s.Points) < 400 || len(s.Points) > 500 {
				b.Fatalf("series %s has %d points", s.Quantity, len(s.Points))
			}
		}
		return d
	}
	get() // warm up
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		lat = append(lat, get())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkVotes measures sustained vote requests per second over HTTP on
// SQLite (WAL): 32 concurrent clients, each request a new (user, proposal)
// support until all 40,000 pairs are used, then repeats (no-op inserts).
// Besides the mean it reports the slowest whole second of the run
// (min-1s-votes/s): "sustained" means every second, not the average.
func BenchmarkVotes(b *testing.B) {
	benchVotes(b, newEnv(b, sqltest.SQLite(b), nil, api.Config{VoteLimit: -1, ContributionLimit: -1}))
}

// BenchmarkVotesPostgres is BenchmarkVotes on PostgreSQL: without rate limit,
// with the in-memory limiter, and with the shared SQL limiter (one more
// upsert per vote). The limit is set out of reach so every vote passes it.
func BenchmarkVotesPostgres(b *testing.B) {
	const unreachable = 1 << 30
	b.Run("limit=off", func(b *testing.B) {
		benchVotes(b, newEnv(b, sqltest.Postgres(b), nil, api.Config{VoteLimit: -1, ContributionLimit: -1}))
	})
	b.Run("limit=memory", func(b *testing.B) {
		benchVotes(b, newEnv(b, sqltest.Postgres(b), nil, api.Config{VoteLimit: unreachable, ContributionLimit: -1}))
	})
	b.Run("limit=sql", func(b *testing.B) {
		pg := sqltest.Postgres(b)
		benchVotes(b, newEnv(b, pg, nil, api.Config{VoteLimit: unreachable, ContributionLimit: -1}, withLimiter(pg.Store.RateLimiter())))
	})
}

func benchVotes(b *testing.B, e *env) {
	const users, props = 200, 200
	toks := make([]string, users)
	for i := range toks {
		_, toks[i] = e.user(civic.RoleCitizen)
	}
	ids := make([]string, props)
	for i := range ids {
		ids[i] = e.idea(toks[0], 1, true).ID
	}
	base := serve(b, e)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	perSecond := make([]atomic.Int64, 3600)
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req, _ := http.NewRequest("POST", base+"/api/v1/ideas/"+ids[(i/users)%props]+"/vote", nil)
			req.Header.Set("Authorization", "Bearer "+toks[i%users])
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			if sec := int(time.Since(start) / time.Second); sec < len(perSecond) {
				perSecond[sec].Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "votes/s")
	if whole := min(int(elapsed/time.Second), len(perSecond)); whole > 0 {
		slowest := perSecond[0].Load()
		for i := 1; i < whole; i++ {
			slowest = min(slowest, perSecond[i].Load())
		}
		b.ReportMetric(float64(slowest), "min-1s-votes/s")
	}
}
