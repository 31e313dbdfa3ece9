package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

type pubMsg struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// fakePub records publishes; fail makes them fail.
type fakePub struct {
	mu   sync.Mutex
	msgs []pubMsg
	fail error
}

func (p *fakePub) Publish(_ context.Context, topic string, payload []byte, retained bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.msgs = append(p.msgs, pubMsg{topic, payload, retained})
	return nil
}

func (p *fakePub) all() []pubMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pubMsg(nil), p.msgs...)
}

type env struct {
	t        testing.TB
	srv      *api.Server
	app      *fiber.App
	st       *sqlstore.Store
	pub      *fakePub
	reg      *prometheus.Registry // the API's metrics
	campaign string
	admin    string // token
	// alerts is the alert service of the routes and pages (alerts_test.go).
	alerts *alerting.Service
}

// freshInflux is a measurements client on a new database of the shared
// InfluxDB (its name is db; write to db+"/autogen").
func freshInflux(t testing.TB) (meas *measure.Client, in *testenv.Influx, db string) {
	t.Helper()
	in = testenv.SharedInflux(t)
	db = in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	return meas, in, db
}

// offlineMeasurements points at a port where nothing listens.
func offlineMeasurements(t testing.TB) *measure.Client {
	c, err := measure.New(measure.Config{URL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), Bucket: "none/autogen", Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEnv(t testing.TB, b sqltest.Backend, meas api.Measurements, cfg api.Config, opts ...func(*api.Deps)) *env {
	t.Helper()
	if meas == nil {
		meas = offlineMeasurements(t)
	}
	cfg.Password = api.PasswordParams{MemoryKiB: 1024, Time: 1}
	pub := &fakePub{}
	deps := api.Deps{Store: b.Store, Measurements: meas, Publisher: pub, Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()}
	deps.Alerts = newAlertService(t, b, meas)
	for _, o := range opts {
		o(&deps)
	}
	srv, err := api.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, app: srv.App(), st: b.Store, pub: pub, reg: deps.Registry}
	e.alerts, _ = deps.Alerts.(*alerting.Service)
	_, e.admin = e.user(civic.RoleAdmin)
	var c civic.Campaign
	e.call("POST", "/api/v1/campaigns", e.admin, map[string]any{"name": "SMART Deal " + civic.NewID(), "starts": time.Now().Add(-time.Hour), "ends": time.Now().Add(30 * 24 * time.Hour), "shortlist_top_n": 3}, 201, &c)
	if c.BudgetEUR != civic.DefaultBudgetEUR {
		t.Fatalf("default budget %d", c.BudgetEUR)
	}
	e.campaign = c.ID
	return e
}

// user creates an account with a role directly in the store, its address
// verified, and returns a bearer token for it (argon2 sign-in is exercised
// in the workflow test; verification by mail in accounts_test.go).
func (e *env) user(role civic.Role) (*civic.User, string) {
	e.t.Helper()
	verified := time.Now().UTC()
	u := &civic.User{Email: civic.NewID() + "@example.fr", Name: string(role), Role: role, PasswordHash: "-", EmailVerified: &verified}
	ctx := context.Background()
	if err := e.st.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	if err := e.st.CreateSession(ctx, &civic.Session{TokenHash: hex.EncodeToString(h[:]), UserID: u.ID, Kind: civic.SessionBearer,
		Created: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

func (e *env) request(method, path, token string, body any, hdr ...string) *http.Request {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

func (e *env) send(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.app.Test(req, 30_000)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *env) do(method, path, token string, body any) (*http.Response, []byte) {
	e.t.Helper()
	return e.send(e.request(method, path, token, body))
}

// call asserts the status and decodes the JSON answer into out (if not nil).
func (e *env) call(method, path, token string, body any, want int, out any) {
	e.t.Helper()
	resp, b := e.do(method, path, token, body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// problem asserts a problem+json answer with the given status and returns it.
func (e *env) problem(method, path, token string, body any, want int) map[string]any {
	e.t.Helper()
	resp, b := e.do(method, path, token, body)
	return checkProblem(e.t, method+" "+path, resp, b, want)
}

func checkProblem(t testing.TB, what string, resp *http.Response, b []byte, want int) map[string]any {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, want, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: Content-Type %q, want application/problem+json (%s)", what, ct, b)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: problem body %s: %v", what, b, err)
	}
	if p["status"] != float64(want) || p["type"] == "" || p["title"] == "" {
		t.Fatalf("%s: malformed problem %v", what, p)
	}
	return p
}

// idea submits a proposal as token and publishes it as admin.
func (e *env) idea(token string, cost int64, publish bool) *civic.Proposal {
	e.t.Helper()
	var p civic.Proposal
	e.call("POST", "/api/v1/ideas", token, map[string]any{"campaign_id": e.campaign, "theme_id": "environnement-risques",
		"title": "Capteurs de crue sur le Var", "body": "Mesurer le niveau d'eau.", "estimated_cost_eur": cost,
		"location": map[string]float64{"lat": 43.70, "lon": 7.25}}, 201, &p)
	if publish {
		e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, &p)
	}
	return &p
}

// verify marks the address of an account that signed up as verified, as
// following the link of its verification mail would (a store call: the
// tests of accounts_test.go follow real links).
func (e *env) verify(email string) {
	e.t.Helper()
	u, err := e.st.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.MarkEmailVerified(context.Background(), u.ID, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

var errPublish = errors.New("broker down")

// scrape is the API's metrics in the Prometheus text format, as the ops
// server's /metrics serves them (the API port has no /metrics).
func scrape(t testing.TB, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// metricValue is the value of one sample, "name" or `name{label="v"}`, in
// the API's metrics; 0 when absent.
func metricValue(t testing.TB, e *env, sample string) float64 {
	t.Helper()
	for _, l := range strings.Split(scrape(t, e.reg), "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("metric %s: %q", sample, l)
			}
			return f
		}
	}
	return 0
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
