package api

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/telemetry"
)

// LiveEvent is one reading sent on the live feed.
type LiveEvent struct {
	Site     string    `json:"site"`
	Device   string    `json:"device"`
	Quantity string    `json:"quantity"`
	Unit     string    `json:"unit,omitempty"`
	Time     time.Time `json:"time"`
	Value    *float64  `json:"value,omitempty"`
	Text     string    `json:"text,omitempty"`
	Bool     *bool     `json:"bool,omitempty"`
	Mission  string    `json:"mission,omitempty"`
}

type subscriber struct {
	keys map[string]bool // "site/device/quantity" or "site/device/*"
	ch   chan []byte
}

// Hub fans readings out to live-feed subscribers. Publishing never blocks:
// a subscriber whose buffer is full loses the event (counted).
type Hub struct {
	log     *slog.Logger
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	closed  chan struct{}
	once    sync.Once
	dropped func()
	gauge   func(float64)
}

// NewHub returns an empty hub.
func NewHub(log *slog.Logger) *Hub {
	return &Hub{log: log, subs: map[*subscriber]struct{}{}, closed: make(chan struct{}), dropped: func() {}, gauge: func(float64) {}}
}

// Close ends every stream (call it before shutting the HTTP server down).
func (h *Hub) Close() { h.once.Do(func() { close(h.closed) }) }

func (h *Hub) subscribe(keys map[string]bool) *subscriber {
	sub := &subscriber{keys: keys, ch: make(chan []byte, 64)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.gauge(float64(len(h.subs)))
	h.mu.Unlock()
	return sub
}

func (h *Hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.gauge(float64(len(h.subs)))
	h.mu.Unlock()
}

// Publish hands readings to the matching subscribers.
func (h *Hub) Publish(rs []smartdeal.Reading) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	for _, r := range rs {
		exact := r.Site + "/" + r.Device + "/" + r.Quantity
		wild := r.Site + "/" + r.Device + "/*"
		var msg []byte
		for sub := range h.subs {
			if !sub.keys[exact] && !sub.keys[wild] {
				continue
			}
			if msg == nil {
				ev := LiveEvent{Site: r.Site, Device: r.Device, Quantity: r.Quantity, Unit: r.Unit, Time: r.Time.UTC(), Mission: r.Mission}
				switch r.Kind {
				case smartdeal.KindNumber:
					v := r.Number
					ev.Value = &v
				case smartdeal.KindBool:
					b := r.Bool
					ev.Bool = &b
				default:
					ev.Text = r.Text
				}
				msg, _ = json.Marshal(ev)
			}
			select {
			case sub.ch <- msg:
			default:
				h.dropped()
			}
		}
	}
}

// HandleTelemetry decodes a telemetry message from MQTT (SenML or line
// protocol, with the ingest's decoder, package telemetry) and publishes its
// readings; bad messages are ignored (the ingest dead-letters them).
func (h *Hub) HandleTelemetry(topics smartdeal.Topics, topic string, payload []byte) {
	m, err := telemetry.Decoder{Topics: topics}.Decode(topic, payload, time.Now(), nil)
	if err != nil {
		h.log.Debug("live feed: undecodable telemetry", "topic", topic, "err", err)
		return
	}
	h.Publish(m.Readings)
}

// MaxLiveSeries bounds the series of one stream.
const MaxLiveSeries = 50

func parseLiveKeys(s string) (map[string]bool, error) {
	keys := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(k), "/")
		if len(parts) != 3 || !smartdeal.ValidID(parts[0]) || !smartdeal.ValidID(parts[1]) ||
			(parts[2] != "*" && !smartdeal.ValidQuantity(parts[2])) {
			return nil, civic.FieldError("series", "want site/device/quantity[,…]")
		}
		keys[strings.Join(parts, "/")] = true
	}
	if len(keys) == 0 || len(keys) > MaxLiveSeries {
		return nil, civic.FieldError("series", "between 1 and %d series", MaxLiveSeries)
	}
	return keys, nil
}

// live streams readings as Server-Sent Events, flushing after each event and
// sending a comment every LiveKeepAlive (15 s) so dead clients are noticed;
// the stream ends, and frees its slot (livecaps.go), when the client goes or
// the hub closes (shutdown).
func (s *Server) live(c *fiber.Ctx) error {
	keys, err := parseLiveKeys(c.Query("series"))
	if err != nil {
		return err
	}
	select {
	case <-s.hub.closed:
		return civic.Errorf(civic.EUNAVAILABLE, "shutting down")
	default:
	}
	release, err := s.takeLiveSlot(c)
	if err != nil {
		return err
	}
	sub := s.hub.subscribe(keys)
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		defer s.hub.unsubscribe(sub)
		tick := time.NewTicker(s.cfg.LiveKeepAlive)
		defer tick.Stop()
		if _, err := w.WriteString(": connected\n\n"); err != nil || w.Flush() != nil {
			return
		}
		for {
			select {
			case <-s.hub.closed:
				_, _ = w.WriteString("event: close\ndata: {}\n\n")
				_ = w.Flush()
				return
			case <-tick.C:
				if _, err := w.WriteString(": keep-alive\n\n"); err != nil || w.Flush() != nil {
					return
				}
			case msg := <-sub.ch:
				if _, err := w.WriteString("event: reading\ndata: "); err != nil {
					return
				}
				_, _ = w.Write(msg)
				if _, err := w.WriteString("\n\n"); err != nil || w.Flush() != nil {
					return
				}
			}
		}
	})
	return nil
}
