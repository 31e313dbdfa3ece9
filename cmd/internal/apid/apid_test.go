package apid

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/senml"
)

// lazy is formatted when a failure message is printed.
type lazy func() string

func (l lazy) String() string { return l() }

func httpJSON(t *testing.T, method, url, token string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

// TestApp runs the service with a real Mosquitto and InfluxDB on ":0": the
// administrator from the configuration signs in, a mission start publishes the
// retained set_mission command, telemetry published on MQTT reaches an SSE
// client, and cancelling the context shuts everything down (SSE included).
func TestApp(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = in.URL
	cfg.Influx.Bucket = db + "/autogen"
	cfg.MQTT.URL = broker.URL()
	cfg.Admin = AdminConfig{Email: "admin@departement06.fr", Password: "administrateur-2026"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr testenv.LogBuffer
	app, err := New(ctx, cfg, slog.New(slog.NewTextHandler(&stderr, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + app.Addr()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	testenv.Eventually(t, 20*time.Second, func() bool { return app.Ready(ctx) == nil },
		"app not ready: %v; log:\n%s", lazy(func() string { return fmt.Sprint(app.Ready(ctx)) }), &stderr)
	resp0, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp0.Body.Close()
	if resp0.StatusCode != 200 {
		t.Fatalf("/readyz %d", resp0.StatusCode)
	}

	var in1 struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": "admin@departement06.fr", "password": "administrateur-2026"}, 200, &in1)
	admin := in1.Token
	var campaigns []map[string]any
	httpJSON(t, "GET", base+"/api/v1/campaigns", "", nil, 200, &campaigns)
	if len(campaigns) != 1 || campaigns[0]["budget_eur"] != float64(1_000_000) {
		t.Fatalf("bootstrap campaign %v", campaigns)
	}
	// An agent: sign up, then the administrator grants the role.
	var agent map[string]any
	httpJSON(t, "POST", base+"/api/v1/auth/signup", "", map[string]any{"email": "agent@departement06.fr", "name": "Agent", "password": "agent-password-1"}, 201, &agent)
	httpJSON(t, "PUT", base+"/api/v1/users/"+agent["id"].(string)+"/role", admin, map[string]any{"role": "agent"}, 204, nil)
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": "agent@departement06.fr", "password": "agent-password-1"}, 200, &in1)
	agentTok := in1.Token
	httpJSON(t, "POST", base+"/api/v1/sites", admin, map[string]any{"id": "paillon", "name": "Vallée du Paillon", "location": map[string]float64{"lat": 43.72, "lon": 7.28}}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/devices", admin, map[string]any{"id": "drone-2", "site_id": "paillon", "kind": "drone", "model": "ArduCopter"}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/missions", admin, map[string]any{"id": "feu-paillon", "title": "Surveillance incendie", "kind": "wildfire_watch",
		"area":         map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{7.28, 43.72}, {7.29, 43.72}, {7.29, 43.73}, {7.28, 43.72}}}},
		"planned_from": time.Now(), "planned_to": time.Now().Add(time.Hour), "agent_id": agent["id"], "site_id": "paillon", "drone_id": "drone-2"}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/missions/feu-paillon/status", agentTok, map[string]any{"status": "active"}, 200, nil)

	// A bridge connecting now learns the active mission from the retained command.
	got := make(chan mqtt.Message, 4)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("bridge-test"))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	sub.Subscribe("smartdeal/v1/paillon/drone-2/cmd", 1, func(_ mqtt.Client, m mqtt.Message) { got <- m }).WaitTimeout(5 * time.Second)
	select {
	case m := <-got:
		var cmd api.SetMissionCommand
		if err := json.Unmarshal(m.Payload(), &cmd); err != nil || !m.Retained() || cmd.Cmd != "set_mission" || cmd.Mission != "feu-paillon" {
			t.Fatalf("cmd %s retained=%v", m.Payload(), m.Retained())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no retained set_mission")
	}

	// The bridge's retained status updates the device registry.
	sub.Publish("smartdeal/v1/paillon/drone-2/status", 1, true, `{"state":"online","time":"`+time.Now().UTC().Format(time.RFC3339)+`"}`).WaitTimeout(5 * time.Second)
	testenv.Eventually(t, 10*time.Second, func() bool {
		var d map[string]any
		httpJSON(t, "GET", base+"/api/v1/devices/drone-2", "", nil, 200, &d)
		return d["status"] == "online" && d["last_seen"] != nil
	}, "device status not updated from MQTT")

	// Live feed from MQTT telemetry.
	resp, err := http.Get(base + "/api/v1/live?series=paillon/drone-2/altitude")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, ": connected") {
		t.Fatalf("live: %q", l)
	}
	payload, err := senml.EncodeReadings("paillon", "drone-2", []smartdeal.Reading{{Site: "paillon", Device: "drone-2", Quantity: "altitude", Unit: "m", Time: time.Now().UTC(), Number: 87.5, Mission: "feu-paillon"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- l
		}
	}()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond) // the subscription may still be settling
	defer tick.Stop()
wait:
	for {
		select {
		case <-tick.C:
			sub.Publish("smartdeal/v1/paillon/drone-2/telemetry", 1, false, payload)
		case l := <-lines:
			if strings.HasPrefix(l, "data: ") {
				if !strings.Contains(l, `"value":87.5`) || !strings.Contains(l, `"mission":"feu-paillon"`) {
					t.Fatalf("event %s", l)
				}
				break wait
			}
		case <-deadline:
			t.Fatal("no live event")
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("Run did not return after cancel; log:\n%s", stderr.String())
	}
	for range lines { // the stream ends with the server
	}
}
