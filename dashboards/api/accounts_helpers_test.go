package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// testClock is a clock the test moves (links expire in hours).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Now().UTC()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(c *testClock) func(*api.Deps) { return func(d *api.Deps) { d.Now = c.Now } }

// fastOutbox makes the outbox retry within the test's patience.
func fastOutbox(cfg api.Config) api.Config {
	cfg.Accounts.Outbox = api.OutboxConfig{Poll: 100 * time.Millisecond, RetryBase: 200 * time.Millisecond, RetryMax: time.Second, Lease: 10 * time.Second}
	return cfg
}

// newMailEnv is newEnv sending its mail over SMTP to mp, with the outbox
// worker running until the test ends.
func newMailEnv(t testing.TB, b sqltest.Backend, cfg api.Config, mp *testenv.Mailpit, opts ...func(*api.Deps)) *env {
	t.Helper()
	smtp, err := mail.NewSMTP(mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, b, nil, fastOutbox(cfg), append(opts, func(d *api.Deps) { d.Mail = smtp })...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Outbox().Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("outbox: %v", err)
		}
	})
	return e
}

// address is a recipient of the test's own on the shared mailpit.
func address(name string) string { return name + "-" + civic.NewID() + "@example.fr" }

var linkToken = regexp.MustCompile(`(/verification|/mot-de-passe/nouveau)\?jeton=([A-Za-z0-9_-]+)`)

// tokenIn returns the token of the link to path in a mail.
func tokenIn(t testing.TB, m testenv.Mail, path string) string {
	t.Helper()
	for _, g := range linkToken.FindAllStringSubmatch(m.Text, -1) {
		if g[1] == path {
			return g[2]
		}
	}
	t.Fatalf("no %s link in the mail %q:\n%s", path, m.Subject, m.Text)
	return ""
}

// linkURL returns the whole link to path in a mail.
func linkURL(t testing.TB, m testenv.Mail, path string) string {
	t.Helper()
	re := regexp.MustCompile(`https?://\S+` + regexp.QuoteMeta(path) + `\?jeton=[A-Za-z0-9_-]+`)
	u := re.FindString(m.Text)
	if u == "" {
		t.Fatalf("no %s link in the mail %q:\n%s", path, m.Subject, m.Text)
	}
	return u
}

func sha(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// signUp creates a citizen through the JSON route and signs in (bearer).
func (e *env) signUp(email, password string) (*civic.User, string) {
	e.t.Helper()
	var u civic.User
	e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "name": "Camille", "password": password}, 201, &u)
	return &u, e.signIn(email, password)
}

// signIn returns a bearer token for the account.
func (e *env) signIn(email, password string) string {
	e.t.Helper()
	var in struct {
		Token string `json:"token"`
	}
	e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": password}, 200, &in)
	return in.Token
}

func (e *env) userByEmail(email string) *civic.User {
	e.t.Helper()
	u, err := e.st.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatalf("%s: %v", email, err)
	}
	return u
}

// metric reads one sample from the server's /metrics, 0 when absent.
func (e *env) metric(name string) float64 {
	e.t.Helper()
	resp, err := e.app.Test(e.request("GET", "/metrics", "", nil), 10_000)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// pending is the number of mails in the outbox.
func (e *env) pending() int {
	e.t.Helper()
	n, err := e.st.PendingMail(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// signedIn reports whether the form client's cookie session still works.
func (f *formClient) signedIn() bool {
	f.e.t.Helper()
	var jar []string
	for k, v := range f.cookies {
		jar = append(jar, k+"="+v)
	}
	resp, _ := f.e.send(f.e.request("GET", "/api/v1/me", "", nil, "Cookie", strings.Join(jar, "; ")))
	return resp.StatusCode == http.StatusOK
}
