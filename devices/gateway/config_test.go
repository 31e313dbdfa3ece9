package gateway_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/devices/bme280"
	"github.com/cd06/smartdeal/devices/gateway"
)

const goodYAML = `
site: nice-port
device: gw-1
broker:
  url: tcp://127.0.0.1:1883
  username: gw-1
  password: secret
spool:
  dir: /var/lib/smartdeal-gateway
  max_bytes: 33554432
forward:
  drain_rate: 50
  backoff_max: 30s
http:
  addr: 127.0.0.1:9102
status_interval: 30s
sensors:
  - driver: bme280
    device: weather-1
    bus: "1"
    address: 0x76
    interval: 30s
  - driver: ds18b20
    device: water-temp-1
  - driver: sim
    device: air-1
    profile: air
    interval: 1s
    tags:
      location: quai
`

func TestParseConfigGood(t *testing.T) {
	c, err := gateway.ParseConfig([]byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	if c.Site != "nice-port" || c.DeviceID() != "gw-1" || len(c.Sensors) != 3 || c.Sensors[0].Options.(*bme280.Config).Address != 0x76 ||
		c.Spool.MaxBytes != 32<<20 || c.ClientID() != "smartdeal-gw-nice-port-gw-1" || c.Sensors[2].Tags["location"] != "quai" {
		t.Fatalf("parsed %+v", c)
	}
	if r := c.Redacted(); r.Broker.Password != "***" || c.Broker.Password != "secret" {
		t.Fatal("Redacted must hide the password without changing the original")
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "gateway", "gateway.example.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("example config missing: %v", err)
	}
	if _, err := gateway.LoadConfig(path); err != nil {
		t.Fatalf("example config: %v", err)
	}
}

// TestBadConfigs: each broken config gives one error naming the field.
func TestBadConfigs(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(goodYAML, old) {
			t.Fatalf("test setup: %q not in the good config", old)
		}
		return strings.Replace(goodYAML, old, new, 1)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"missing site", edit("site: nice-port\n", ""), "site: required"},
		{"bad site", edit("site: nice-port", "site: Nice Port"), "site: \"Nice Port\""},
		{"bad device", edit("device: gw-1", "device: GW_1"), "device:"},
		{"missing broker url", edit("  url: tcp://127.0.0.1:1883\n", ""), "broker.url: required"},
		{"bad broker scheme", edit("tcp://127.0.0.1:1883", "http://127.0.0.1:1883"), "broker.url: scheme"},
		{"tls cert without key", edit("  password: secret\n", "  password: secret\n  tls:\n    cert: /etc/gw.crt\n"), "broker.tls: cert and key"},
		{"relative tls path", edit("  password: secret\n", "  password: secret\n  tls:\n    ca: ca.pem\n"), "broker.tls.ca"},
		{"missing spool dir", edit("  dir: /var/lib/smartdeal-gateway\n", ""), "spool.dir: required"},
		{"negative spool size", edit("max_bytes: 33554432", "max_bytes: -1"), "spool.max_bytes"},
		{"negative drain rate", edit("drain_rate: 50", "drain_rate: -5"), "forward.drain_rate"},
		{"bad status interval", edit("status_interval: 30s", "status_interval: 10ms"), "status_interval"},
		{"bare number duration", edit("status_interval: 30s", "status_interval: 30"), "duration"},
		{"no sensors", strings.Split(goodYAML, "sensors:")[0], "sensors: at least one"},
		{"unknown driver", edit("driver: ds18b20", "driver: ds18b21"), "sensors[1].driver: unknown driver \"ds18b21\""},
		{"bad bme280 address", edit("address: 0x76", "address: 0x10"), "sensors[0].address: 0x10: want 0x76 or 0x77"},
		{"sensor interval too short", edit("interval: 1s", "interval: 1ms"), "sensors[2].interval"},
		{"missing sensor device", edit("    device: water-temp-1\n", ""), "sensors[1].device: required"},
		{"duplicate device", edit("device: water-temp-1", "device: weather-1"), "sensors[1].device: \"weather-1\" already used by sensors[0]"},
		{"sensor uses the gateway id", edit("device: water-temp-1", "device: gw-1"), "sensors[1].device: \"gw-1\" is the gateway's own device id"},
		{"sim without profile", edit("    profile: air\n", ""), "sensors[2].profile: required"},
		{"unknown top-level key", edit("status_interval: 30s", "status_intervall: 30s"), "status_intervall"},
		{"unknown sensor key", edit("address: 0x76", "adress: 0x76"), "adress"},
		{"bad log level", edit("status_interval: 30s", "status_interval: 30s\nlog:\n  level: loud"), "log.level"},
		{"not yaml", "site: [", "yaml"},
		{"empty", "", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.ParseConfig([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted; want an error naming %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, gateway.ErrConfig) {
				t.Fatalf("err = %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	if _, err := gateway.New(gateway.Config{Site: "x"}, nil); err == nil || !strings.Contains(err.Error(), "broker.url") {
		t.Fatalf("err = %v", err)
	}
}
