package live

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal"
)

// EventQuantity is the series name of a device's events on the live feed
// (site/device/event, or site/device/*): the bridge's link_lost,
// link_regained, statustext, mode_changed, armed… (docs/drones.md).
const EventQuantity = "event"

// MaxEventText bounds an event's message on the live feed (a STATUSTEXT
// is 50 characters; anything longer is not the bridge's).
const MaxEventText = 200

// deviceEvent is the part of a bridge event (drone.Event's JSON) the live
// feed passes on.
type deviceEvent struct {
	Type     string    `json:"type"`
	Time     time.Time `json:"time"`
	Severity string    `json:"severity"`
	Message  string    `json:"message"`
	Mission  string    `json:"mission"`
}

// HandleEvent decodes a device event from MQTT ({site}/{device}/event,
// JSON) and publishes it as series site/device/event: the device is the
// topic's, never the payload's; bad messages are ignored.
func (h *Hub) HandleEvent(topics smartdeal.Topics, topic string, payload []byte) {
	ev, ok := decodeEvent(topics, topic, payload)
	if !ok {
		h.log.Debug("live feed: undecodable event", "topic", topic)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.send(ev.Site, ev.Device, EventQuantity, func() Event { return ev })
}

// decodeEvent reads a device event: a known channel, a type and a time;
// the texts bounded and valid UTF-8.
func decodeEvent(topics smartdeal.Topics, topic string, payload []byte) (Event, bool) {
	site, device, channel, err := topics.Parse(topic)
	if err != nil || channel != smartdeal.ChannelEvent || len(payload) > 4096 {
		return Event{}, false
	}
	var d deviceEvent
	if json.Unmarshal(payload, &d) != nil || d.Type == "" || len(d.Type) > 40 || d.Time.IsZero() ||
		!utf8.ValidString(d.Type) || !utf8.ValidString(d.Message) || !utf8.ValidString(d.Severity) || len(d.Severity) > 20 {
		return Event{}, false
	}
	if len(d.Message) > MaxEventText {
		d.Message = d.Message[:MaxEventText]
		for !utf8.ValidString(d.Message) {
			d.Message = d.Message[:len(d.Message)-1]
		}
	}
	if !smartdeal.ValidID(d.Mission) {
		d.Mission = ""
	}
	return Event{Site: site, Device: device, Quantity: EventQuantity, Time: d.Time.UTC(), Text: d.Message,
		Event: d.Type, Severity: d.Severity, Mission: d.Mission}, true
}
