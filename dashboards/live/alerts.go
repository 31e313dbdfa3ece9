package live

import (
	"encoding/json"
	"time"

	"github.com/cd06/smartdeal"
)

// AlertsKey is the series key of a subscription to the alert changes
// (never a site/device/quantity key: it has no slash).
const AlertsKey = "alerts"

// AlertEvent is one alert change sent on the live feed: what a page needs
// to say it and to know it should refresh, from the evaluator's retained
// MQTT message (docs/alerts.md), nothing else of it.
type AlertEvent struct {
	Event    string    `json:"event"` // fired, acknowledged, cleared, closed
	At       time.Time `json:"at"`
	ID       string    `json:"id"`
	RuleName string    `json:"rule_name"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	Site     string    `json:"site"`
	Device   string    `json:"device"`
	Quantity string    `json:"quantity"`
	Past     bool      `json:"past"`
}

// MaxAlertMessage bounds the MQTT alert message HandleAlert decodes.
const MaxAlertMessage = 64 << 10

// DecodeAlert reads an alert change from the evaluator's MQTT message
// ({"event", "at", "alert": {...}}); ok is false for anything else.
func DecodeAlert(payload []byte) (AlertEvent, bool) {
	if len(payload) == 0 || len(payload) > MaxAlertMessage {
		return AlertEvent{}, false
	}
	var m struct {
		Event string    `json:"event"`
		At    time.Time `json:"at"`
		Alert *struct {
			ID       string `json:"id"`
			RuleName string `json:"rule_name"`
			Severity string `json:"severity"`
			Status   string `json:"status"`
			Past     bool   `json:"past"`
			Series   struct {
				Site     string `json:"site"`
				Device   string `json:"device"`
				Quantity string `json:"quantity"`
			} `json:"series"`
		} `json:"alert"`
	}
	if err := json.Unmarshal(payload, &m); err != nil || m.Alert == nil {
		return AlertEvent{}, false
	}
	switch m.Event {
	case "fired", "acknowledged", "cleared", "closed":
	default:
		return AlertEvent{}, false
	}
	switch m.Alert.Severity {
	case "jaune", "orange", "rouge":
	default:
		return AlertEvent{}, false
	}
	a := m.Alert
	if !smartdeal.ValidID(a.ID) || !smartdeal.ValidID(a.Series.Site) || len(a.RuleName) > 400 || len(a.Status) > 20 ||
		len(a.Series.Device) > 100 || len(a.Series.Quantity) > 100 {
		return AlertEvent{}, false
	}
	return AlertEvent{Event: m.Event, At: m.At, ID: a.ID, RuleName: a.RuleName, Severity: a.Severity, Status: a.Status,
		Site: a.Series.Site, Device: a.Series.Device, Quantity: a.Series.Quantity, Past: a.Past}, true
}

// HandleAlert decodes an alert change from MQTT and hands it to the
// subscribers of AlertsKey; anything else is ignored.
func (h *Hub) HandleAlert(payload []byte) {
	ev, ok := DecodeAlert(payload)
	if !ok {
		h.log.Debug("live feed: undecodable alert message")
		return
	}
	h.PublishAlert(ev)
}

// PublishAlert hands an alert change to the subscribers of AlertsKey.
func (h *Hub) PublishAlert(ev AlertEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var msg []byte
	for sub := range h.subs {
		if !sub.series[AlertsKey] {
			continue
		}
		if msg == nil {
			msg, _ = json.Marshal(ev)
		}
		select {
		case sub.ch <- msg:
		default:
			h.dropped()
		}
	}
}
