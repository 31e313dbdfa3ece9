// Package bridgetest helps test the MAVLink bridge end to end: an MQTT
// publisher and collector on a real broker (paho), a lossy UDP relay to cut a
// vehicle's link, and free UDP ports.
package bridgetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/senml"
)

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free udp port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Publisher publishes QoS 1 through paho and waits for the broker's ack.
type Publisher struct {
	c mqtt.Client
}

// NewPublisher connects a publisher to the broker at url.
func NewPublisher(t testing.TB, url string) *Publisher {
	return &Publisher{c: mqtttest.Client(t, url, fmt.Sprintf("bridgetest-pub-%d", time.Now().UnixNano()))}
}

// Publish implements bridge.Publisher.
func (p *Publisher) Publish(ctx context.Context, topic string, payload []byte) error {
	tok := p.c.Publish(topic, 1, false, payload)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PublishRetained publishes a retained QoS 1 message (as the API does for set_mission).
func (p *Publisher) PublishRetained(t testing.TB, topic string, payload string) {
	t.Helper()
	tok := p.c.Publish(topic, 1, true, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// Message is one message the collector received.
type Message struct {
	Topic   string
	Payload []byte
	At      time.Time
}

// Collector subscribes to a filter and keeps every message.
type Collector struct {
	mu   sync.Mutex
	msgs []Message
}

// Collect subscribes to filter on the broker at url.
func Collect(t testing.TB, url, filter string) *Collector {
	t.Helper()
	c := mqtttest.Client(t, url, fmt.Sprintf("bridgetest-sub-%d", time.Now().UnixNano()))
	col := &Collector{}
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		col.mu.Lock()
		col.msgs = append(col.msgs, Message{m.Topic(), append([]byte(nil), m.Payload()...), time.Now()})
		col.mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return col
}

// Messages returns the messages whose topic ends with suffix.
func (c *Collector) Messages(suffix string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for _, m := range c.msgs {
		if strings.HasSuffix(m.Topic, suffix) {
			out = append(out, m)
		}
	}
	return out
}

// Readings decodes every telemetry pack of site/device (failing the test on a bad pack).
func (c *Collector) Readings(t testing.TB, site, device string) []smartdeal.Reading {
	t.Helper()
	var out []smartdeal.Reading
	for _, m := range c.Messages("/" + site + "/" + device + "/telemetry") {
		var err error
		out, err = senml.Readings(site, device, m.Payload, m.At, out)
		if err != nil {
			t.Fatalf("telemetry of %s: %v: %s", device, err, m.Payload)
		}
	}
	return out
}

// Latest returns the last reading of a quantity, and whether there is one.
func (c *Collector) Latest(t testing.TB, site, device, quantity string) (smartdeal.Reading, bool) {
	rs := c.Readings(t, site, device)
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Quantity == quantity {
			return rs[i], true
		}
	}
	return smartdeal.Reading{}, false
}

// Events decodes the JSON events of site/device.
func (c *Collector) Events(t testing.TB, site, device string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range c.Messages("/" + site + "/" + device + "/event") {
		var ev map[string]any
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatalf("event of %s: %v: %s", device, err, m.Payload)
		}
		out = append(out, ev)
	}
	return out
}

// EventsOfType returns the events of one type.
func (c *Collector) EventsOfType(t testing.TB, site, device, typ string) []map[string]any {
	var out []map[string]any
	for _, e := range c.Events(t, site, device) {
		if e["type"] == typ {
			out = append(out, e)
		}
	}
	return out
}

// Relay forwards UDP datagrams between vehicles (which send to Addr) and a
// bridge, and can drop them: a radio link that fades.
type Relay struct {
	// Addr is where vehicles send.
	Addr string

	front   *net.UDPConn
	back    *net.UDPConn
	peer    atomic.Pointer[net.UDPAddr]
	drop    atomic.Int64 // datagrams from the vehicle still to drop
	paused  atomic.Bool
	muted   atomic.Bool
	dropped atomic.Int64
}

// NewRelay starts a relay towards the bridge listening at target.
func NewRelay(t testing.TB, target string) *Relay {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp4", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{Addr: front.LocalAddr().String(), front: front, back: back}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r.peer.Store(from)
			if r.paused.Load() || r.takeDrop() {
				r.dropped.Add(1)
				continue
			}
			_, _ = back.Write(buf[:n])
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, err := back.Read(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && !ne.Timeout() && strings.Contains(err.Error(), "refused") {
					continue // the bridge is not listening yet
				}
				if strings.Contains(err.Error(), "closed") {
					return
				}
				continue
			}
			if p := r.peer.Load(); p != nil && !r.paused.Load() && !r.muted.Load() {
				_, _ = front.WriteToUDP(buf[:n], p)
			}
		}
	}()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		wg.Wait()
	})
	return r
}

func (r *Relay) takeDrop() bool {
	for {
		n := r.drop.Load()
		if n <= 0 {
			return false
		}
		if r.drop.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// Drop drops the next n datagrams coming from the vehicle.
func (r *Relay) Drop(n int) { r.drop.Store(int64(n)) }

// Pause cuts the link both ways until Resume.
func (r *Relay) Pause() { r.paused.Store(true) }

// Resume restores the link.
func (r *Relay) Resume() { r.paused.Store(false) }

// Mute drops (true) or passes (false) what the bridge sends to the vehicle.
func (r *Relay) Mute(on bool) { r.muted.Store(on) }

// Dropped returns how many datagrams from the vehicle were dropped.
func (r *Relay) Dropped() int64 { return r.dropped.Load() }

// Fly runs a simulated fleet until the test ends, then stops it and reports
// an error it returned.
func Fly(t testing.TB, fleet dronesim.Fleet) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fleet.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fleet: %v", err)
		}
	})
}
