// Package mqtttest is a test helper: a persistent-session QoS 1 subscriber that
// records every message it receives, in arrival order.
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
