package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/internal/testenv"
)

// TestRun starts the real program from SMARTDEAL_* variables with a real
// Mosquitto and InfluxDB: it becomes ready, the configured administrator signs
// in, the year's campaign exists, and cancelling the context stops it cleanly.
// The service itself is tested in cmd/internal/apid (TestApp).
func TestRun(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	port, opsPort := testenv.FreePort(t), testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ops := fmt.Sprintf("http://127.0.0.1:%d", opsPort)
	env := map[string]string{
		"SMARTDEAL_DB":             filepath.Join(t.TempDir(), "api.db"),
		"SMARTDEAL_HTTP_ADDR":      fmt.Sprintf("127.0.0.1:%d", port),
		"SMARTDEAL_INFLUX_URL":     in.URL,
		"SMARTDEAL_INFLUX_BUCKET":  db + "/autogen",
		"SMARTDEAL_MQTT_URL":       broker.URL(),
		"SMARTDEAL_ADMIN_EMAIL":    "admin@departement06.fr",
		"SMARTDEAL_ADMIN_PASSWORD": "administrateur-2026",
		"SMARTDEAL_OPS_ADDR":       fmt.Sprintf("127.0.0.1:%d", opsPort),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr testenv.LogBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &stderr) }()
	testenv.Eventually(t, 20*time.Second, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, "api not ready; log:\n%s", &stderr)

	body, _ := json.Marshal(map[string]any{"email": "admin@departement06.fr", "password": "administrateur-2026"})
	resp, err := http.Post(base+"/api/v1/auth/signin", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"token"`) {
		t.Fatalf("signin %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(base + "/api/v1/campaigns")
	if err != nil {
		t.Fatal(err)
	}
	var campaigns []map[string]any
	err = json.NewDecoder(resp.Body).Decode(&campaigns)
	resp.Body.Close()
	if err != nil || len(campaigns) != 1 || campaigns[0]["budget_eur"] != float64(1_000_000) {
		t.Fatalf("bootstrap campaign %v %v", campaigns, err)
	}

	// The metrics are on the operations port, not on the API's.
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, body := get(ops + "/metrics"); code != 200 || !strings.Contains(body, "smartdeal_api_requests_total") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("ops /metrics: %d %.300s", code, body)
	}
	if code, body := get(ops + "/readyz"); code != 200 || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("ops /readyz: %d %s", code, body)
	}
	if code, _ := get(base + "/metrics"); code != 404 {
		t.Fatalf("API port /metrics: %d, want 404", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("run did not return after cancel; log:\n%s", &stderr)
	}
}

func TestRunBadConfig(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"bad addr":       {"SMARTDEAL_HTTP_ADDR": "nowhere"},
		"admin half":     {"SMARTDEAL_ADMIN_EMAIL": "a@b.fr"},
		"bad log":        {"SMARTDEAL_LOG_LEVEL": "loud"},
		"bad rate store": {"SMARTDEAL_API_RATE_STORE": "redis"},
		"audit undated":  {"SMARTDEAL_LEGAL_RGAA_AUDIT_RATE": "75,5"},
		"bad ops addr":   {"SMARTDEAL_OPS_ADDR": "nowhere"},
		"unreachable pg": {"SMARTDEAL_DB": "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=1"},
	} {
		t.Run(name, func(t *testing.T) {
			env["SMARTDEAL_MQTT_URL"] = ""
			if _, ok := env["SMARTDEAL_DB"]; !ok {
				env["SMARTDEAL_DB"] = filepath.Join(t.TempDir(), "x.db")
			}
			err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard)
			if err == nil {
				t.Fatal("run accepted a bad configuration")
			}
		})
	}
}

// TestKeys: the keys and environment names are those of before the move to apid.
func TestKeys(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-keys"}, func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"SMARTDEAL_DB", "SMARTDEAL_HTTP_ADDR", "SMARTDEAL_HTTP_BODY_LIMIT", "SMARTDEAL_HTTP_COOKIE_SECURE",
		"SMARTDEAL_INFLUX_URL", "SMARTDEAL_INFLUX_TOKEN", "SMARTDEAL_INFLUX_ORG", "SMARTDEAL_INFLUX_BUCKET", "SMARTDEAL_INFLUX_CACHE_TTL",
		"SMARTDEAL_MQTT_URL", "SMARTDEAL_MQTT_CLIENT_ID", "SMARTDEAL_MQTT_USERNAME", "SMARTDEAL_MQTT_PASSWORD", "SMARTDEAL_MQTT_TOPIC_PREFIX",
		"SMARTDEAL_ADMIN_EMAIL", "SMARTDEAL_ADMIN_PASSWORD", "SMARTDEAL_LICENCE", "SMARTDEAL_LOG_LEVEL", "SMARTDEAL_LOG_FORMAT",
		"SMARTDEAL_API_RATE_STORE", "SMARTDEAL_LEGAL_DPO_EMAIL", "SMARTDEAL_LEGAL_HOST_NAME", "SMARTDEAL_LEGAL_RGAA_AUDIT_RATE",
		"SMARTDEAL_MAIL_HOST", "SMARTDEAL_MAIL_PORT", "SMARTDEAL_MAIL_TLS", "SMARTDEAL_MAIL_FROM",
		"SMARTDEAL_API_SESSION_TTL", "SMARTDEAL_API_BEARER_TTL", "SMARTDEAL_API_VERIFY_TTL", "SMARTDEAL_API_RESET_TTL",
		"SMARTDEAL_API_SUPPORT_ASSURANCE", "SMARTDEAL_API_MAIL_LIMIT", "SMARTDEAL_API_MAIL_RETRY",
		"SMARTDEAL_OPS_ADDR", "SMARTDEAL_API_SIGNIN_ACCOUNT_FREE", "SMARTDEAL_API_SIGNUP_NETWORK_LIMIT",
		"SMARTDEAL_MAP_TILE_URL", "SMARTDEAL_MAP_TILE_ATTRIBUTION", "SMARTDEAL_MAP_TILE_MAX_ZOOM",
		"SMARTDEAL_API_PUBLIC_READ_LIMIT", "SMARTDEAL_API_LIVE_MAX_STREAMS", "SMARTDEAL_API_LIVE_MAX_PER_CLIENT"} {

		if !strings.Contains(out.String(), k+" ") {
			t.Errorf("-keys lacks %s:\n%s", k, &out)
		}
	}
}
