// Package live is the live feed of readings: the hub that fans readings out
// to subscribers of a set of series (with caps per client and in total), the
// decoding of MQTT telemetry into hub events (with the ingest's decoder,
// package telemetry), and the recording of devices' MQTT status messages.
//
// It knows neither HTTP nor MQTT clients: the API (dashboards/api) writes a
// subscription as Server-Sent Events, and the wiring (cmd/internal/apid)
// hands it what its MQTT subscription receives.
package live

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/telemetry"
)

// Event is one reading sent on the live feed.
type Event struct {
	Site     string    `json:"site"`
	Device   string    `json:"device"`
	Quantity string    `json:"quantity"`
	Unit     string    `json:"unit,omitempty"`
	Time     time.Time `json:"time"`
	Value    *float64  `json:"value,omitempty"`
	Text     string    `json:"text,omitempty"`
	Bool     *bool     `json:"bool,omitempty"`
	Mission  string    `json:"mission,omitempty"`
	// Event and Severity are set on a device event (quantity EventQuantity,
	// HandleEvent): its type (link_lost, statustext…) and severity; Text
	// is its message.
	Event    string `json:"event,omitempty"`
	Severity string `json:"severity,omitempty"`
}

// Buffer is the number of events a subscription holds for a slow reader;
// beyond it, events for that subscriber are dropped (counted).
const Buffer = 64

// Limits caps the open subscriptions, per client and in total (0: no cap).
// Each subscription of the API holds a goroutine, a Buffer-event channel and
// a connection for as long as the client keeps it, so without a cap a few
// thousand anonymous requests hold the process. The caps are per process:
// the streams are this process's resource.
type Limits struct {
	PerClient int
	Total     int
}

// Options configure a Hub. Every field is optional.
type Options struct {
	Log    *slog.Logger
	Limits Limits
	// Dropped is called for each event lost for a slow subscriber.
	Dropped func()
	// Clients is called with the number of open subscriptions each time it
	// changes (under the hub's lock: keep it quick).
	Clients func(n int)
}

// The refusals of Subscribe.
var (
	ErrClientFull = errors.New("live: too many streams open for this client")
	ErrFull       = errors.New("live: the live feed is full")
	ErrClosed     = errors.New("live: the hub is closed")
)

// Subscription is one subscriber's stream of events.
type Subscription struct {
	hub    *Hub
	client string
	series Series
	ch     chan []byte
	once   sync.Once
}

// Events delivers each matching reading as the JSON of an Event.
func (s *Subscription) Events() <-chan []byte { return s.ch }

// Done is closed when the hub closes (shutdown): the stream should end.
func (s *Subscription) Done() <-chan struct{} { return s.hub.closed }

// Close ends the subscription and frees its slot; it is safe to call more
// than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, s)
		if h.per[s.client]--; h.per[s.client] <= 0 {
			delete(h.per, s.client)
		}
		h.clients(len(h.subs))
	})
}

// Hub fans readings out to live-feed subscribers. Publishing never blocks:
// a subscriber whose buffer is full loses the event (counted).
type Hub struct {
	log     *slog.Logger
	limits  Limits
	dropped func()
	clients func(int)
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	per     map[string]int // open subscriptions per client
	closed  chan struct{}
	once    sync.Once
}

// NewHub returns an empty hub.
func NewHub(o Options) *Hub {
	h := &Hub{log: o.Log, limits: o.Limits, dropped: o.Dropped, clients: o.Clients,
		subs: map[*Subscription]struct{}{}, per: map[string]int{}, closed: make(chan struct{})}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.dropped == nil {
		h.dropped = func() {}
	}
	if h.clients == nil {
		h.clients = func(int) {}
	}
	return h
}

// Limits returns the hub's caps.
func (h *Hub) Limits() Limits { return h.limits }

// Close ends every subscription's stream (their Done channel closes); later
// subscriptions are refused with ErrClosed. Call it before shutting the HTTP
// server down.
func (h *Hub) Close() { h.once.Do(func() { close(h.closed) }) }

// Subscribe opens a subscription to series for client (the key the
// per-client cap counts: the API uses the address, an IPv6 /64). It refuses
// with ErrClosed once the hub is closed, ErrClientFull when the client has
// Limits.PerClient subscriptions open, ErrFull when the hub has
// Limits.Total. The caller must Close the subscription.
func (h *Hub) Subscribe(client string, series Series) (*Subscription, error) {
	select {
	case <-h.closed:
		return nil, ErrClosed
	default:
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.limits.PerClient > 0 && h.per[client] >= h.limits.PerClient:
		return nil, ErrClientFull
	case h.limits.Total > 0 && len(h.subs) >= h.limits.Total:
		return nil, ErrFull
	}
	sub := &Subscription{hub: h, client: client, series: series, ch: make(chan []byte, Buffer)}
	h.subs[sub] = struct{}{}
	h.per[client]++
	h.clients(len(h.subs))
	return sub, nil
}

// Publish hands readings to the matching subscribers.
func (h *Hub) Publish(rs []smartdeal.Reading) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	for _, r := range rs {
		h.send(r.Site, r.Device, r.Quantity, func() Event { return eventOf(r) })
	}
}

// send hands the event of series site/device/quantity to its subscribers,
// encoding it once, only if one wants it. h.mu is held.
func (h *Hub) send(site, device, quantity string, ev func() Event) {
	exact := site + "/" + device + "/" + quantity
	wild := site + "/" + device + "/*"
	var msg []byte
	for sub := range h.subs {
		if !sub.series[exact] && !sub.series[wild] {
			continue
		}
		if msg == nil {
			msg, _ = json.Marshal(ev())
		}
		select {
		case sub.ch <- msg:
		default:
			h.dropped()
		}
	}
}

func eventOf(r smartdeal.Reading) Event {
	ev := Event{Site: r.Site, Device: r.Device, Quantity: r.Quantity, Unit: r.Unit, Time: r.Time.UTC(), Mission: r.Mission}
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
	return ev
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

// Series is a set of series keys, "site/device/quantity" or "site/device/*"
// (every quantity of a device).
type Series map[string]bool

// MaxSeries bounds the series of one subscription.
const MaxSeries = 50

// ParseSeries reads a comma-separated list of series keys (between 1 and
// MaxSeries); its error is a civic field error on "series".
func ParseSeries(s string) (Series, error) {
	keys := Series{}
	for _, k := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(k), "/")
		if len(parts) != 3 || !smartdeal.ValidID(parts[0]) || !smartdeal.ValidID(parts[1]) ||
			(parts[2] != "*" && !smartdeal.ValidQuantity(parts[2])) {
			return nil, civic.FieldError("series", "want site/device/quantity[,…]")
		}
		keys[strings.Join(parts, "/")] = true
	}
	if len(keys) == 0 || len(keys) > MaxSeries {
		return nil, civic.FieldError("series", "between 1 and %d series", MaxSeries)
	}
	return keys, nil
}
