// Package mqtttest is the platform's MQTT test client (paho): a clean-session
// client that publishes at QoS 1 and waits for the broker's acks, and a
// persistent-session QoS 1 subscriber that records every message it
// receives, in arrival order. Every package's tests use it; the brokers come
// from internal/testenv.
package mqtttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Message is one received message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	At       time.Time
}

// Client connects a clean-session client (auto-reconnect on) as id; it
// disconnects when the test ends.
func Client(t testing.TB, url, id string) mqtt.Client {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// Publish sends payloads to topic at QoS 1 and waits for every PUBACK.
func Publish(t testing.TB, c mqtt.Client, topic string, payloads ...[]byte) {
	t.Helper()
	toks := make([]mqtt.Token, 0, len(payloads))
	for _, p := range payloads {
		toks = append(toks, c.Publish(topic, 1, false, p))
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
}

// Recorder subscribes to a filter with a persistent session (clean session off,
// fixed client id), so messages published while the broker was down or the
// recorder was disconnected are delivered after the reconnect.
type Recorder struct {
	client mqtt.Client
	mu     sync.Mutex
	msgs   []Message
}

// Subscribe connects to url and subscribes to filter at QoS 1; it disconnects
// when the test ends.
func Subscribe(t testing.TB, url, clientID, filter string) *Recorder {
	t.Helper()
	r := &Recorder{}
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(500 * time.Millisecond).
		SetOrderMatters(true)
	handler := func(_ mqtt.Client, m mqtt.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, Message{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained(), At: time.Now()})
		r.mu.Unlock()
	}
	opts.SetDefaultPublishHandler(handler)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		c.Subscribe(filter, 1, handler)
	})
	r.client = mqtt.NewClient(opts)
	tok := r.client.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("recorder connect %s: %v", url, tok.Error())
	}
	st := r.client.Subscribe(filter, 1, handler)
	if !st.WaitTimeout(10*time.Second) || st.Error() != nil {
		t.Fatalf("recorder subscribe %s: %v", filter, st.Error())
	}
	t.Cleanup(func() { r.client.Disconnect(100) })
	return r
}

// Messages returns a copy of what was received so far.
func (r *Recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}

// Len returns how many messages were received.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// Publish publishes one message at QoS 1 with the recorder's client.
func (r *Recorder) Publish(topic string, payload []byte, retained bool) error {
	tok := r.client.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(10 * time.Second) {
		return fmt.Errorf("publish %s: timeout", topic)
	}
	return tok.Error()
}
