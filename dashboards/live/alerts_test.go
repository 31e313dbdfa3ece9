package live_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/live"
)

const alertMsg = `{"event":"fired","at":"2026-12-06T10:00:00Z","link":"http://x/alertes/abc","alert":{"id":"abc123","rule_id":"r1","rule_name":"Crue du Var","kind":"above","severity":"orange","series":{"site":"var","device":"level-1","quantity":"water_level","unit":"m"},"status":"active","value":2.7,"past":false}}`

// TestHubAlerts: alert changes reach the subscribers of AlertsKey only,
// reduced to what a page needs; malformed messages reach nobody.
func TestHubAlerts(t *testing.T) {
	h := live.NewHub(live.Options{})
	alerts, err := h.Subscribe("a", live.Series{live.AlertsKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer alerts.Close()
	readings, err := h.Subscribe("b", live.Series{"var/level-1/water_level": true})
	if err != nil {
		t.Fatal(err)
	}
	defer readings.Close()
	h.HandleAlert([]byte(alertMsg))
	for _, bad := range []string{"", "{", `{"event":"fired"}`, strings.Replace(alertMsg, `"orange"`, `"violet"`, 1),
		strings.Replace(alertMsg, `"fired"`, `"boom"`, 1), strings.Replace(alertMsg, `"abc123"`, `"../x"`, 1), strings.Repeat(" ", live.MaxAlertMessage+1)} {
		h.HandleAlert([]byte(bad))
	}
	select {
	case msg := <-alerts.Events():
		var ev live.AlertEvent
		if err := json.Unmarshal(msg, &ev); err != nil || ev.ID != "abc123" || ev.Severity != "orange" || ev.Site != "var" || ev.Event != "fired" || !ev.At.Equal(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("event %s %+v %v", msg, ev, err)
		}
		if strings.Contains(string(msg), "link") || strings.Contains(string(msg), "2.7") {
			t.Fatalf("more than the page needs: %s", msg)
		}
	case <-time.After(time.Second):
		t.Fatal("no alert event")
	}
	select {
	case msg := <-alerts.Events():
		t.Fatalf("a malformed message went through: %s", msg)
	case msg := <-readings.Events():
		t.Fatalf("a readings subscriber got an alert: %s", msg)
	default:
	}
}

// FuzzDecodeAlert: no input panics, and what is accepted has a valid id,
// site and severity.
func FuzzDecodeAlert(f *testing.F) {
	f.Add([]byte(alertMsg))
	f.Add([]byte(`{"event":"cleared","alert":{"id":"a","severity":"rouge","series":{"site":"s"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, ok := live.DecodeAlert(b)
		if ok && (ev.ID == "" || ev.Site == "" || (ev.Severity != "jaune" && ev.Severity != "orange" && ev.Severity != "rouge")) {
			t.Fatalf("accepted %+v", ev)
		}
	})
}
