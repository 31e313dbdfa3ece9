package apid

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/assets/maptest"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/internal/browsertest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestLiveDroneOnMap: a drone flying a mission publishes its position on
// MQTT (a fix's latitude and longitude as line protocol, as the bridge's
// Telegraf route does) and its marker on /carte moves there, through the
// service's real MQTT feed, a real Mosquitto and map.js in Chromium.
func TestLiveDroneOnMap(t *testing.T) {
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

	var tok struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": "admin@departement06.fr", "password": "administrateur-2026"}, 200, &tok)
	admin := tok.Token
	httpJSON(t, "POST", base+"/api/v1/sites", admin, map[string]any{"id": "nice-port", "name": "Port de Nice", "location": map[string]float64{"lat": 43.695, "lon": 7.285}}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/devices", admin, map[string]any{"id": "drone-1", "site_id": "nice-port", "kind": "drone", "model": "PX4 quad",
		"quantities": []map[string]string{{"quantity": "latitude", "unit": "lat"}, {"quantity": "longitude", "unit": "lon"}}}, 201, nil)
	agent := &civic.User{Email: "agent@departement06.fr", Name: "Agent", Role: civic.RoleAgent, PasswordHash: "-"}
	if err := app.store.CreateUser(ctx, agent); err != nil {
		t.Fatal(err)
	}
	httpJSON(t, "POST", base+"/api/v1/missions", admin, map[string]any{"id": "littoral-carte", "title": "Suivi du littoral", "kind": "coastline",
		"area":         map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{7.28, 43.69}, {7.3, 43.69}, {7.3, 43.71}, {7.28, 43.71}, {7.28, 43.69}}}},
		"planned_from": time.Now().Add(-time.Hour), "planned_to": time.Now().Add(time.Hour), "agent_id": agent.ID, "site_id": "nice-port", "drone_id": "drone-1"}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/missions/littoral-carte/status", admin, map[string]any{"status": "active"}, 200, nil)

	page := browsertest.New(t)
	if err := chromedp.Do(page, chromedp.Navigate(base+"/carte")); err != nil {
		t.Fatal(err)
	}
	if err := maptest.WaitReady(page, "#carte"); err != nil {
		t.Fatal(err)
	}
	// No fix yet: the drone is shown at its site.
	if lat, lon, err := maptest.DronePosition(page, "nice-port/drone-1"); err != nil || lat != 43.695 || lon != 7.285 {
		t.Fatalf("drone at %g, %g (%v), want its site", lat, lon, err)
	}
	pub := mqtttest.Client(t, broker.URL(), "drone-bridge")
	at := time.Now().UTC().Truncate(time.Second)
	payload := fmt.Sprintf("latitude,unit=lat,mission=littoral-carte value=43.7 %d\nlongitude,unit=lon,mission=littoral-carte value=7.29 %d\n", at.UnixNano(), at.UnixNano())
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Published until it moves: the feed's subscription and the page's
		// stream may still be settling.
		mqtttest.Publish(t, pub, "smartdeal/v1/nice-port/drone-1/telemetry", []byte(payload))
		time.Sleep(300 * time.Millisecond)
		lat, lon, err := maptest.DronePosition(page, "nice-port/drone-1")
		if err == nil && lat == 43.7 && lon == 7.29 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drone at %g, %g (%v), want 43.7, 7.29; log:\n%s", lat, lon, err, stderr.String())
		}
	}
	// The next fix moves it again.
	at = at.Add(time.Second)
	payload = fmt.Sprintf("latitude,unit=lat value=43.701 %d\nlongitude,unit=lon value=7.291 %d\n", at.UnixNano(), at.UnixNano())
	mqtttest.Publish(t, pub, "smartdeal/v1/nice-port/drone-1/telemetry", []byte(payload))
	testenv.Eventually(t, 10*time.Second, func() bool {
		lat, lon, _ := maptest.DronePosition(page, "nice-port/drone-1")
		return lat == 43.701 && lon == 7.291
	}, "the second fix did not move the drone")
}
