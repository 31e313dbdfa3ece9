package apid

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/internal/testenv"
)

// TestStartWithoutBrokerAndInflux: with the broker down and nothing on the
// InfluxDB port, New and Run still start the API (the all-in-one starts every
// part at once); Ready names both; the broker's arrival makes the MQTT side
// ready without a restart. The administrator has no configured password: one
// is generated, logged once, and works; a second start keeps the account.
func TestStartWithoutBrokerAndInflux(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	broker.Stop()
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	cfg.MQTT.URL = broker.URL()
	cfg.Admin = AdminConfig{Email: "demo@smartdeal.local"}

	var logs testenv.LogBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := New(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	base := "http://" + app.Addr()
	testenv.Eventually(t, 10*time.Second, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, "API not serving; log:\n%s", &logs)

	err = app.Ready(ctx)
	if err == nil || !strings.Contains(err.Error(), "influxdb: ") || !strings.Contains(err.Error(), "mqtt: not connected") {
		t.Fatalf("Ready = %v, want influxdb and mqtt named", err)
	}
	if app.DatabaseReady(ctx) != nil {
		t.Fatal("database not ready")
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("/readyz %d, want 503 (InfluxDB down)", resp.StatusCode)
	}

	m := regexp.MustCompile(`generated password.* email=demo@smartdeal.local password=([A-Z2-7]+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no generated password logged:\n%s", &logs)
	}
	var in struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": "demo@smartdeal.local", "password": m[1]}, 200, &in)
	var me map[string]any
	httpJSON(t, "GET", base+"/api/v1/me", in.Token, nil, 200, &me)
	if me["role"] != "admin" {
		t.Fatalf("me %v", me)
	}

	broker.Start(t)
	testenv.Eventually(t, 15*time.Second, func() bool { return app.BrokerReady(ctx) == nil },
		"broker not ready after it started: %v", lazy(func() string { return fmt.Sprint(app.BrokerReady(ctx)) }))

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("Run did not return; log:\n%s", &logs)
	}
	if n := strings.Count(logs.String(), "password="); n != 1 {
		t.Fatalf("password logged %d times", n)
	}

	// Second start on the same database: the account is kept, nothing generated.
	var logs2 testenv.LogBuffer
	cfg.MQTT.URL = ""
	app2, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs2, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := app2.Run(ctx2); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs2.String(), "password=") || !strings.Contains(logs2.String(), "administrator exists") {
		t.Fatalf("second start log:\n%s", &logs2)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for want, mod := range map[string]func(*Config){
		"db:":                      func(c *Config) { c.DB = " " },
		"http.addr:":               func(c *Config) { c.HTTP.Addr = "nowhere" },
		"http.body_limit:":         func(c *Config) { c.HTTP.BodyLimit = 10 },
		"influx.url:":              func(c *Config) { c.Influx.URL = "127.0.0.1:8086" },
		"influx.bucket:":           func(c *Config) { c.Influx.Bucket = "" },
		"influx.cache_ttl:":        func(c *Config) { c.Influx.CacheTTL = -time.Second },
		"influx.engine:":           func(c *Config) { c.Influx.Engine = "sql" },
		"mqtt.url:":                func(c *Config) { c.MQTT.URL = "localhost" },
		"mqtt.client_id:":          func(c *Config) { c.MQTT.ClientID = "" },
		"admin.email:":             func(c *Config) { c.Admin.Password = "long-enough-password" },
		"admin.email: \"x\"":       func(c *Config) { c.Admin.Email = "x" },
		"admin.password:":          func(c *Config) { c.Admin = AdminConfig{Email: "a@b.fr", Password: "short"} },
		"api.rate_store:":          func(c *Config) { c.API.RateStore = "redis" },
		"api.signin_account_delay": func(c *Config) { c.API.SignInAccountMaxDelay = time.Millisecond },
		"api.signup_window:":       func(c *Config) { c.API.SignUpWindow = time.Millisecond },
		"notify.secret:":           func(c *Config) { c.Notify.Secret = "too short" },
	} {
		c := DefaultConfig()
		mod(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	c := DefaultConfig()
	c.MQTT.URL = "" // disabled: no client id needed
	c.MQTT.ClientID = ""
	c.Admin.Email = "a@b.fr" // password generated
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for name, mod := range map[string]func(*Config){
		"unreachable pg": func(c *Config) { c.DB = "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=1" },
		"port taken":     func(c *Config) { c.HTTP.Addr = ln.Addr().String() },
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			c.DB = filepath.Join(t.TempDir(), "x.db")
			c.MQTT.URL = ""
			mod(&c)
			if app, err := New(context.Background(), c, nil, nil); err == nil {
				app.Run(canceled())
				t.Fatal("New accepted it")
			}
		})
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
