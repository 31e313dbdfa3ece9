package live_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/senml"
)

func series(t *testing.T, s string) live.Series {
	t.Helper()
	keys, err := live.ParseSeries(s)
	if err != nil {
		t.Fatalf("ParseSeries(%q): %v", s, err)
	}
	return keys
}

// next returns the subscription's next event, failing after 5 s.
func next(t *testing.T, sub *live.Subscription) live.Event {
	t.Helper()
	select {
	case msg := <-sub.Events():
		var ev live.Event
		if err := json.Unmarshal(msg, &ev); err != nil {
			t.Fatalf("event %s: %v", msg, err)
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return live.Event{}
	}
}

func none(t *testing.T, sub *live.Subscription) {
	t.Helper()
	select {
	case msg := <-sub.Events():
		t.Fatalf("unexpected event %s", msg)
	default:
	}
}

// TestParseSeries: 1 to MaxSeries keys site/device/quantity or
// site/device/*, anything else a field error on "series".
func TestParseSeries(t *testing.T) {
	if keys := series(t, "var-estuaire/level-1/water_level, var-estuaire/drone-1/*"); len(keys) != 2 ||
		!keys["var-estuaire/level-1/water_level"] || !keys["var-estuaire/drone-1/*"] {
		t.Fatalf("keys %v", keys)
	}
	many := "s/d/q0"
	for i := 1; i < live.MaxSeries; i++ {
		many += fmt.Sprintf(",s/d/q%d", i)
	}
	series(t, many)
	for _, bad := range []string{"", "s/d", "s/d/q/x", "S/d/q", "s/d/Bad Quantity", "s/*/q", many + ",s/d/qx"} {
		_, err := live.ParseSeries(bad)
		var ce *civic.Error
		if !errors.As(err, &ce) || ce.Code != civic.EINVALID || ce.Extra["field"] != "series" {
			t.Errorf("ParseSeries(%q): %v, want a field error on series", bad, err)
		}
	}
}

// TestHubPublish: a reading reaches the subscriptions whose series match it
// (exactly or by device), as the JSON of an Event of its kind; a full buffer
// drops events (counted) without blocking the publisher.
func TestHubPublish(t *testing.T) {
	dropped, clients := 0, -1
	h := live.NewHub(live.Options{Dropped: func() { dropped++ }, Clients: func(n int) { clients = n }})
	level, err := h.Subscribe("a", series(t, "var-estuaire/level-1/water_level"))
	if err != nil {
		t.Fatal(err)
	}
	defer level.Close()
	drone, err := h.Subscribe("b", series(t, "var-estuaire/drone-1/*"))
	if err != nil {
		t.Fatal(err)
	}
	if clients != 2 {
		t.Fatalf("clients %d, want 2", clients)
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	h.Publish([]smartdeal.Reading{
		{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Unit: "m", Time: at, Kind: smartdeal.KindNumber, Number: 2.5},
		{Site: "var-estuaire", Device: "level-2", Quantity: "water_level", Unit: "m", Time: at, Kind: smartdeal.KindNumber, Number: 9},
		{Site: "var-estuaire", Device: "drone-1", Quantity: "armed", Time: at, Kind: smartdeal.KindBool, Bool: true, Mission: "m-1"},
		{Site: "var-estuaire", Device: "drone-1", Quantity: "mode", Time: at, Kind: smartdeal.KindString, Text: "AUTO"},
	})
	if ev := next(t, level); ev.Device != "level-1" || ev.Value == nil || *ev.Value != 2.5 || ev.Unit != "m" || !ev.Time.Equal(at) || ev.Time.Location() != time.UTC {
		t.Fatalf("level event %+v", ev)
	}
	none(t, level)
	if ev := next(t, drone); ev.Quantity != "armed" || ev.Bool == nil || !*ev.Bool || ev.Value != nil || ev.Mission != "m-1" {
		t.Fatalf("drone event %+v", ev)
	}
	if ev := next(t, drone); ev.Quantity != "mode" || ev.Text != "AUTO" || ev.Bool != nil {
		t.Fatalf("drone event %+v", ev)
	}
	drone.Close()
	drone.Close() // twice: no effect
	if clients != 1 {
		t.Fatalf("clients %d after a close, want 1", clients)
	}
	r := smartdeal.Reading{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Time: at, Kind: smartdeal.KindNumber}
	for range live.Buffer + 3 {
		h.Publish([]smartdeal.Reading{r})
	}
	if dropped != 3 || len(level.Events()) != live.Buffer {
		t.Fatalf("dropped %d, buffered %d; want 3, %d", dropped, len(level.Events()), live.Buffer)
	}
}

// TestHubCaps: subscriptions are capped per client and in total; a closed
// subscription frees its slot; a closed hub ends every subscription and
// refuses new ones.
func TestHubCaps(t *testing.T) {
	h := live.NewHub(live.Options{Limits: live.Limits{PerClient: 2, Total: 3}})
	keys := series(t, "s/d/q")
	sub := func(client string) *live.Subscription {
		t.Helper()
		s, err := h.Subscribe(client, keys)
		if err != nil {
			t.Fatalf("Subscribe(%s): %v", client, err)
		}
		return s
	}
	refused := func(client string, want error) {
		t.Helper()
		if s, err := h.Subscribe(client, keys); !errors.Is(err, want) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Subscribe(%s): %v, want %v", client, err, want)
		}
	}
	a1, a2 := sub("a"), sub("a")
	refused("a", live.ErrClientFull)
	b1 := sub("b")
	refused("c", live.ErrFull)
	refused("a", live.ErrClientFull) // the client's cap is checked first
	a1.Close()
	a3 := sub("a") // a's slot, and the total's, are free again
	refused("c", live.ErrFull)
	b1.Close()
	c1 := sub("c")
	h.Close()
	for _, s := range []*live.Subscription{a2, a3, c1} {
		select {
		case <-s.Done():
		default:
			t.Fatal("a subscription still open after the hub closed")
		}
		s.Close()
	}
	refused("d", live.ErrClosed)
	h.Close() // twice: no effect
}

// TestHandleTelemetry: telemetry is decoded with the ingest's decoder, SenML
// and line protocol (a Telegraf agent's line) alike; an undecodable message
// publishes nothing.
func TestHandleTelemetry(t *testing.T) {
	h := live.NewHub(live.Options{})
	s, err := h.Subscribe("a", series(t, "var-estuaire/level-1/water_level,var-estuaire/level-7/water_level"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	topics := smartdeal.Topics{}
	at := time.Now().UTC().Truncate(time.Second)
	b, err := senml.EncodeReadings("var-estuaire", "level-1", []smartdeal.Reading{{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Unit: "m", Time: at, Number: 2.5}})
	if err != nil {
		t.Fatal(err)
	}
	h.HandleTelemetry(topics, topics.Telemetry("var-estuaire", "level-1"), b)
	if ev := next(t, s); ev.Device != "level-1" || ev.Value == nil || *ev.Value != 2.5 || !ev.Time.Equal(at) {
		t.Fatalf("SenML event %+v", ev)
	}
	line := fmt.Sprintf("water_level,host=telegraf-rpi-3,unit=m value=2.75 %d\n", at.UnixNano())
	h.HandleTelemetry(topics, topics.Telemetry("var-estuaire", "level-7"), []byte(line))
	if ev := next(t, s); ev.Device != "level-7" || ev.Value == nil || *ev.Value != 2.75 || ev.Unit != "m" || !ev.Time.Equal(at) {
		t.Fatalf("line-protocol event %+v", ev)
	}
	h.HandleTelemetry(topics, topics.Telemetry("var-estuaire", "level-1"), []byte("not senml"))
	h.HandleTelemetry(topics, "elsewhere/var-estuaire/level-1/telemetry", b)
	none(t, s)
}
