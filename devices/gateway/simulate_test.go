package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices/gateway"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/senml"
)

// TestSimulatedSites runs two simulated sites in one process, as the
// all-in-one does, with the real sim driver: both deliver decodable SenML
// readings with plausible quantities.
func TestSimulatedSites(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-sim", "smartdeal/v1/+/+/telemetry")
	for _, site := range []string{"nice-port", "grasse"} {
		cfg := gateway.SimulatedConfig(site, broker.URL(), t.TempDir(), 4, 200*time.Millisecond)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		start(t, cfg)
	}
	quantities := map[string]bool{}
	testenv.Eventually(t, 20*time.Second, func() bool {
		for _, m := range rec.Messages() {
			site, dev, _, err := smartdeal.Topics{}.Parse(m.Topic)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := senml.Readings(site, dev, m.Payload, time.Now(), nil)
			if err != nil {
				t.Fatalf("%s: %v", m.Topic, err)
			}
			for _, r := range rs {
				quantities[site+"/"+r.Quantity] = true
			}
		}
		return quantities["nice-port/temperature"] && quantities["grasse/pm2_5"] && quantities["grasse/water_level"]
	}, "quantities seen: %v", quantities)
	if !strings.Contains(rec.Messages()[0].Topic, "/telemetry") {
		t.Fatal("unexpected topic")
	}
}
