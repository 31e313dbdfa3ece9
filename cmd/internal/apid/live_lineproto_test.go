package apid

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/internal/browsertest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestLiveLineProtocol: a Telegraf agent's line (InfluxDB line protocol, with
// Telegraf's host tag) published on MQTT reaches an SSE client of
// /api/v1/live and the "Dernière valeur" line of a proposal page that links
// the series, through the service's real MQTT feed and a real Mosquitto. The
// live feed used to decode SenML only, so such series never updated live.
func TestLiveLineProtocol(t *testing.T) {
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
	ctx := context.Background()
	base, app, stderr := runApp(t, cfg)
	testenv.Eventually(t, 20*time.Second, func() bool { return app.Ready(ctx) == nil },
		"app not ready: %v; log:\n%s", lazy(func() string { return fmt.Sprint(app.Ready(ctx)) }), stderr)

	// A river-level sensor read by a Telegraf agent, linked to a published proposal.
	var tok struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": "admin@departement06.fr", "password": "administrateur-2026"}, 200, &tok)
	admin := tok.Token
	httpJSON(t, "POST", base+"/api/v1/sites", admin, map[string]any{"id": "var-estuaire", "name": "Estuaire du Var", "location": map[string]float64{"lat": 43.66, "lon": 7.2}}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/devices", admin, map[string]any{"id": "level-7", "site_id": "var-estuaire", "kind": "sensor", "model": "Telegraf + sonde de niveau",
		"quantities": []map[string]string{{"quantity": "water_level", "unit": "m"}}}, 201, nil)
	var campaigns []struct {
		ID string `json:"id"`
	}
	httpJSON(t, "GET", base+"/api/v1/campaigns", "", nil, 200, &campaigns)
	if len(campaigns) != 1 {
		t.Fatalf("campaigns %v", campaigns)
	}
	var idea struct {
		ID string `json:"id"`
	}
	// The administrator proposes (a citizen would first confirm an address by mail: accounts_test.go).
	httpJSON(t, "POST", base+"/api/v1/ideas", admin, map[string]any{"campaign_id": campaigns[0].ID, "theme_id": "environnement-risques",
		"title": "Suivre la crue du Var en direct", "body": "Afficher le niveau de l'eau relevé par les sondes de l'estuaire.",
		"estimated_cost_eur": 12000, "location": map[string]float64{"lat": 43.66, "lon": 7.2}}, 201, &idea)
	httpJSON(t, "POST", base+"/api/v1/ideas/"+idea.ID+"/status", admin, map[string]any{"status": "published"}, 200, nil)
	httpJSON(t, "POST", base+"/api/v1/links", admin, map[string]any{"proposal_id": idea.ID, "site_id": "var-estuaire", "device_id": "level-7", "quantity": "water_level"}, 201, nil)

	// An SSE client of the series, and the proposal page with JavaScript.
	resp, err := http.Get(base + "/api/v1/live?series=var-estuaire/level-7/water_level")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, ": connected") {
		t.Fatalf("live: %q", l)
	}
	events := make(chan string, 16)
	go func() {
		defer close(events)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(l, "data: ") {
				events <- l
			}
		}
	}()
	page := browsertest.New(t)
	const line = `p.direct[data-series="var-estuaire/level-7/water_level"]`
	if err := chromedp.Do(page, chromedp.Navigate(base+"/idees/"+idea.ID), chromedp.WaitVisible(chromedp.ID("direct"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(page, chromedp.Poll[bool](`document.getElementById("direct-etat").textContent.startsWith("En direct")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("page stream not open: %v", err)
	}
	if got, err := chromedp.Run(page, chromedp.Text(chromedp.CSS(line+" .valeur"))); err != nil || got != "aucune mesure sur la période" {
		t.Fatalf("latest value before the reading %q (%v)", got, err)
	}

	// The agent publishes the way Telegraf's MQTT output does: QoS 1, one
	// line, nanosecond timestamp, its host tag.
	pub := mqtttest.Client(t, broker.URL(), "telegraf-var")
	at := time.Now().UTC().Truncate(time.Second)
	payload := fmt.Sprintf("water_level,host=telegraf-rpi-3,unit=m value=2.75 %d\n", at.UnixNano())
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond) // the feed's subscription may still be settling
	defer tick.Stop()
wait:
	for {
		select {
		case <-tick.C:
			mqtttest.Publish(t, pub, "smartdeal/v1/var-estuaire/level-7/telemetry", []byte(payload))
		case ev, ok := <-events:
			if !ok {
				t.Fatal("live stream ended")
			}
			for _, want := range []string{`"site":"var-estuaire"`, `"device":"level-7"`, `"quantity":"water_level"`, `"unit":"m"`, `"value":2.75`, `"time":"` + at.Format(time.RFC3339) + `"`} {
				if !strings.Contains(ev, want) {
					t.Fatalf("event %s: no %s", ev, want)
				}
			}
			break wait
		case <-deadline:
			t.Fatalf("no live event for the line-protocol reading; log:\n%s", stderr.String())
		}
	}
	if _, err := chromedp.Run(page, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector(%q).textContent === "2,75\u00a0m"`, line+" .valeur"),
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got, _ := chromedp.Run(page, chromedp.Text(chromedp.CSS(line)))
		t.Fatalf("latest value on the page %q, want 2,75 m: %v", got, err)
	}
	if got, err := chromedp.Run(page, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute("datetime")`, line+" time"))); err != nil || got != at.Format(time.RFC3339) {
		t.Errorf("datetime %q, want %s (%v)", got, at.Format(time.RFC3339), err)
	}
}
