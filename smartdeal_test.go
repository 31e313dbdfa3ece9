package smartdeal

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestValidID(t *testing.T) {
	good := []string{"a", "0", "nice-06", "river_bank-3", "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"}
	bad := []string{"", "-a", "_a", "A", "a b", "a/b", "a+", "#", "été", "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01"}
	for _, s := range good {
		if !ValidID(s) {
			t.Errorf("ValidID(%q) = false, want true", s)
		}
	}
	for _, s := range bad {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true, want false", s)
		}
	}
}

func TestValidQuantity(t *testing.T) {
	for _, s := range []string{"temperature", "pm2_5", "battery_remaining"} {
		if !ValidQuantity(s) {
			t.Errorf("ValidQuantity(%q) = false", s)
		}
	}
	for _, s := range []string{"", "2pm", "_x", "Temp", "a-b", "a.b", "a\"b"} {
		if ValidQuantity(s) {
			t.Errorf("ValidQuantity(%q) = true", s)
		}
	}
}

func TestTopics(t *testing.T) {
	var tp Topics
	if got := tp.Telemetry("nice", "bme-1"); got != "smartdeal/v1/nice/bme-1/telemetry" {
		t.Fatalf("Telemetry = %q", got)
	}
	if got := tp.TelemetryFilter(); got != "smartdeal/v1/+/+/telemetry" {
		t.Fatalf("TelemetryFilter = %q", got)
	}
	site, dev, ch, err := tp.Parse("smartdeal/v1/nice/bme-1/telemetry")
	if err != nil || site != "nice" || dev != "bme-1" || ch != "telemetry" {
		t.Fatalf("Parse = %q %q %q %v", site, dev, ch, err)
	}
	for _, bad := range []string{"smartdeal/v1/nice/telemetry", "other/v1/a/b/telemetry", "smartdeal/v1/Nice/b/telemetry", "smartdeal/v1/a/b/c/telemetry", "smartdeal/v1/a/b/"} {
		if _, _, _, err := tp.Parse(bad); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("Parse(%q) err = %v, want ErrInvalidTopic", bad, err)
		}
	}
	if got := (Topics{Prefix: "x/y/"}).DeadLetter("BAD", "d"); got != "x/y/deadletter/_/d" {
		t.Fatalf("DeadLetter = %q", got)
	}
	if got := tp.Alert("nice", "", "atmo", "r1", "rouge"); got != "smartdeal/v1/alerts/nice/_/atmo/r1/rouge" {
		t.Fatalf("Alert = %q", got)
	}
	if got := tp.Alert("a/b", "#", "+", "r", "jaune"); got != "smartdeal/v1/alerts/_/_/_/r/jaune" {
		t.Fatalf("Alert with unsafe parts = %q", got)
	}
	// An alert topic is not a device topic: nobody decodes it as telemetry.
	if _, _, _, err := tp.Parse(tp.Alert("nice", "d", "q", "r", "orange")); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("Parse(alert topic) err = %v", err)
	}
	if got := tp.AlertsFilter(); got != "smartdeal/v1/alerts/#" {
		t.Fatalf("AlertsFilter = %q", got)
	}
}

func TestReadingValidate(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ok := Reading{Site: "nice", Device: "d1", Quantity: "temperature", Unit: "Cel", Time: now, Number: 21.5}
	if err := ok.Validate(now); err != nil {
		t.Fatalf("valid reading: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Reading)
		want error
	}{
		{"nan", func(r *Reading) { r.Number = math.NaN() }, ErrInvalidValue},
		{"inf", func(r *Reading) { r.Number = math.Inf(1) }, ErrInvalidValue},
		{"1970", func(r *Reading) { r.Time = time.Unix(10, 0) }, ErrInvalidTime},
		{"future", func(r *Reading) { r.Time = now.Add(time.Hour) }, ErrInvalidTime},
		{"bad quantity", func(r *Reading) { r.Quantity = "Temp" }, ErrInvalidQuantity},
		{"bad device", func(r *Reading) { r.Device = "a/b" }, ErrInvalidID},
		{"bad unit", func(r *Reading) { r.Unit = "a b" }, ErrInvalidValue},
		{"bad mission", func(r *Reading) { r.Mission = "M 1" }, ErrInvalidID},
	}
	for _, c := range cases {
		r := ok
		c.mod(&r)
		if err := r.Validate(now); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}
