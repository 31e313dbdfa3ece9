package boot

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type testMQTT struct {
	URL    string   `koanf:"url"`
	Topics []string `koanf:"topics"`
}

type testIngest struct {
	MaxInflight   int           `koanf:"max_inflight"`
	FlushInterval time.Duration `koanf:"flush_interval"`
	Gzip          bool          `koanf:"gzip"`
}

type testConfig struct {
	MQTT   testMQTT   `koanf:"mqtt"`
	Ingest testIngest `koanf:"ingest"`
	Log    Log        `koanf:"log"`
}

func (c *testConfig) Validate() error {
	if !strings.HasPrefix(c.MQTT.URL, "tcp://") {
		return fmt.Errorf("mqtt.url: want tcp://host:port, got %q", c.MQTT.URL)
	}
	if c.Ingest.MaxInflight < 1 {
		return fmt.Errorf("ingest.max_inflight: want ≥ 1, got %d", c.Ingest.MaxInflight)
	}
	return c.Log.Validate("log")
}

func defaults() *testConfig {
	return &testConfig{
		MQTT:   testMQTT{URL: "tcp://127.0.0.1:1883", Topics: []string{"a"}},
		Ingest: testIngest{MaxInflight: 10000, FlushInterval: time.Second, Gzip: true},
		Log:    DefaultLog(),
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	path := writeFile(t, `
mqtt:
  url: tcp://file:1883
ingest:
  max_inflight: 500
  flush_interval: 250ms
log:
  level: debug
`)
	tests := []struct {
		name string
		path string
		env  map[string]string
		want testConfig
	}{
		{
			name: "defaults only",
			want: *defaults(),
		},
		{
			name: "file over defaults",
			path: path,
			want: testConfig{
				MQTT:   testMQTT{URL: "tcp://file:1883", Topics: []string{"a"}},
				Ingest: testIngest{MaxInflight: 500, FlushInterval: 250 * time.Millisecond, Gzip: true},
				Log:    Log{Level: "debug", Format: "text"},
			},
		},
		{
			name: "file from SMARTDEAL_CONFIG, environment over file",
			env: map[string]string{
				"SMARTDEAL_CONFIG":                path,
				"SMARTDEAL_MQTT_URL":              "tcp://env:1883",
				"SMARTDEAL_INGEST_MAX_INFLIGHT":   "42",
				"SMARTDEAL_INGEST_GZIP":           "false",
				"SMARTDEAL_MQTT_TOPICS":           "x, y",
				"SMARTDEAL_INGEST_FLUSH_INTERVAL": "3s",
			},
			want: testConfig{
				MQTT:   testMQTT{URL: "tcp://env:1883", Topics: []string{"x", "y"}},
				Ingest: testIngest{MaxInflight: 42, FlushInterval: 3 * time.Second, Gzip: false},
				Log:    Log{Level: "debug", Format: "text"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaults()
			if err := Load(cfg, tt.path, env(tt.env)); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(*cfg) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %+v\nwant %+v", *cfg, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		wantErr string
		is      error
	}{
		{name: "invalid from env names the field", env: map[string]string{"SMARTDEAL_INGEST_MAX_INFLIGHT": "0"}, wantErr: "ingest.max_inflight"},
		{name: "invalid from file names the field", file: "mqtt:\n  url: http://x\n", wantErr: "mqtt.url"},
		{name: "bad log level", env: map[string]string{"SMARTDEAL_LOG_LEVEL": "loud"}, wantErr: "log.level"},
		{name: "unknown key in file", file: "mqtt:\n  ulr: tcp://x:1\n", wantErr: "mqtt.ulr", is: ErrUnknownKey},
		{name: "not a number", env: map[string]string{"SMARTDEAL_INGEST_MAX_INFLIGHT": "many"}, wantErr: "max_inflight"},
		{name: "broken yaml", file: "mqtt: [\n", wantErr: "config file"},
		{name: "missing file", env: map[string]string{"SMARTDEAL_CONFIG": "/nonexistent/smartdeal.yaml"}, wantErr: "/nonexistent/smartdeal.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			err := Load(defaults(), path, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	keys, err := Keys(defaults())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Key+"="+k.Env)
	}
	want := "ingest.flush_interval=SMARTDEAL_INGEST_FLUSH_INTERVAL ingest.gzip=SMARTDEAL_INGEST_GZIP ingest.max_inflight=SMARTDEAL_INGEST_MAX_INFLIGHT log.format=SMARTDEAL_LOG_FORMAT log.level=SMARTDEAL_LOG_LEVEL mqtt.topics=SMARTDEAL_MQTT_TOPICS mqtt.url=SMARTDEAL_MQTT_URL"
	if strings.Join(got, " ") != want {
		t.Fatalf("keys:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

func TestNewLogger(t *testing.T) {
	var b strings.Builder
	log, err := NewLogger(Log{Level: "warn", Format: "json"}, &b)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), `"msg":"shown"`) {
		t.Fatalf("log output %q", b.String())
	}
	if _, err := NewLogger(Log{Format: "xml"}, io.Discard); err == nil || !strings.Contains(err.Error(), "log.format") {
		t.Fatalf("err = %v", err)
	}
}

func TestServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "boot_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var brokerDown atomic.Bool
	s := NewServer(ServerConfig{
		Addr:     "127.0.0.1:0",
		Registry: reg,
		Checks: []Check{
			{Name: "broker", Fn: func(context.Context) error {
				if brokerDown.Load() {
					return errors.New("not connected")
				}
				return nil
			}},
			{Name: "influxdb", Fn: func(context.Context) error { return nil }},
		},
	}, nil)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	base := "http://" + s.Addr()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"broker":"ok"`) {
		t.Fatalf("readyz %d %s", code, body)
	}
	brokerDown.Store(true)
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "not connected") {
		t.Fatalf("readyz when broker down: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "boot_test_total 3") {
		t.Fatalf("metrics %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestServerListenError(t *testing.T) {
	s := NewServer(ServerConfig{Addr: "256.0.0.1:0"}, nil)
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "http listen") {
		t.Fatalf("err = %v", err)
	}
}

func TestFlags(t *testing.T) {
	var out strings.Builder
	path, done, err := Flags("test", []string{"-config", "x.yaml"}, defaults(), &out)
	if path != "x.yaml" || done || err != nil || out.Len() != 0 {
		t.Fatalf("-config: %q %v %v %q", path, done, err, out.String())
	}
	path, done, err = Flags("test", []string{"-keys"}, defaults(), &out)
	if path != "" || !done || err != nil || !strings.Contains(out.String(), "mqtt.url") || !strings.Contains(out.String(), "SMARTDEAL_MQTT_URL ") {
		t.Fatalf("-keys: %q %v %v\n%s", path, done, err, out.String())
	}
	out.Reset()
	if _, _, err := Flags("test", []string{"-h"}, defaults(), &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "Usage of test") {
		t.Fatalf("-h: %v %q", err, out.String())
	}
}
