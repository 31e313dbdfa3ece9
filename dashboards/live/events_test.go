package live_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/live"
)

// TestHandleEvent: a bridge event reaches the subscribers of the drone's
// event series and of its wildcard, with its type, severity and message;
// the device is the topic's; hostile and malformed events are dropped.
func TestHandleEvent(t *testing.T) {
	h := live.NewHub(live.Options{})
	exact, err := h.Subscribe("a", series(t, "var-estuaire/drone-1/event"))
	if err != nil {
		t.Fatal(err)
	}
	defer exact.Close()
	wild, err := h.Subscribe("b", series(t, "var-estuaire/drone-1/*"))
	if err != nil {
		t.Fatal(err)
	}
	defer wild.Close()
	other, err := h.Subscribe("c", series(t, "var-estuaire/drone-2/*,var-estuaire/drone-1/latitude"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var topics smartdeal.Topics
	topic := topics.Device("var-estuaire", "drone-1", smartdeal.ChannelEvent)
	h.HandleEvent(topics, topic, []byte(`{"type":"link_lost","time":"2026-12-06T21:00:00+01:00","severity":"warning","message":"no frame for 5s","system_id":1,"device":"drone-2","mission":"vol-1"}`))
	for _, sub := range []*live.Subscription{exact, wild} {
		ev := next(t, sub)
		if ev.Event != "link_lost" || ev.Severity != "warning" || ev.Text != "no frame for 5s" || ev.Device != "drone-1" ||
			ev.Quantity != live.EventQuantity || ev.Mission != "vol-1" || ev.Time.Hour() != 20 || ev.Value != nil {
			t.Fatalf("event %+v", ev)
		}
	}
	none(t, other)
	long := strings.Repeat("é", 300)
	h.HandleEvent(topics, topic, []byte(`{"type":"statustext","time":"2026-12-06T21:00:00Z","severity":"info","message":"`+long+`","mission":"../x"}`))
	ev := next(t, exact)
	if len(ev.Text) > live.MaxEventText || !utf8.ValidString(ev.Text) || ev.Mission != "" {
		t.Fatalf("long message %d bytes, mission %q", len(ev.Text), ev.Mission)
	}
	next(t, wild)
	for _, bad := range []struct{ topic, payload string }{
		{topic, `not json`},
		{topic, `{"time":"2026-12-06T21:00:00Z"}`}, // no type
		{topic, `{"type":"link_lost"}`},            // no time
		{topic, `{"type":"` + strings.Repeat("x", 41) + `","time":"2026-12-06T21:00:00Z"}`},
		{topics.Device("var-estuaire", "drone-1", smartdeal.ChannelTelemetry), `{"type":"link_lost","time":"2026-12-06T21:00:00Z"}`},
		{"elsewhere/var-estuaire/drone-1/event", `{"type":"link_lost","time":"2026-12-06T21:00:00Z"}`},
		{topic, `{"type":"link_lost","time":"2026-12-06T21:00:00Z","message":"` + strings.Repeat("x", 5000) + `"}`},
	} {
		h.HandleEvent(topics, bad.topic, []byte(bad.payload))
	}
	none(t, exact)
	none(t, wild)
}

// FuzzHandleEvent: any topic and payload either publish a bounded, valid
// event of the topic's device or nothing; never a panic.
func FuzzHandleEvent(f *testing.F) {
	f.Add("smartdeal/v1/var-estuaire/drone-1/event", []byte(`{"type":"statustext","time":"2026-12-06T21:00:00Z","severity":"info","message":"PreArm: GPS"}`))
	f.Add("smartdeal/v1/a/b/event", []byte(`{"type":"x","time":"0001-01-01T00:00:00Z"}`))
	f.Add("smartdeal/v1/a/b/event", []byte("\xff"))
	var topics smartdeal.Topics
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		h := live.NewHub(live.Options{})
		sub, err := h.Subscribe("a", series(t, "var-estuaire/drone-1/*"))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		h.HandleEvent(topics, topic, payload)
		select {
		case msg := <-sub.Events():
			if len(msg) > 2048 || !utf8.Valid(msg) || !strings.HasPrefix(topic, "smartdeal/v1/var-estuaire/drone-1/") {
				t.Fatalf("event %s from %q", msg, topic)
			}
		default:
		}
	})
}
