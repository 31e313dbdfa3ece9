package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
)

// noBroker is the Publisher when no MQTT URL is configured.
type noBroker struct{}

func (noBroker) Publish(context.Context, string, []byte, bool) error {
	return errors.New("no MQTT broker configured (mqtt.url)")
}

type telemetryMsg struct {
	topic   string
	payload []byte
}

// mqttFeed is the API's MQTT side (paho): it publishes mission commands and
// subscribes to every device's telemetry (QoS 0: the live feed is a view, the
// ingest is the durable path) to feed the SSE hub. The paho callback only
// hands messages to a bounded queue; one goroutine decodes them.
type mqttFeed struct {
	client mqtt.Client
	topics smartdeal.Topics
	log    *slog.Logger
	hub    *api.Hub
	srv    *api.Server
	queue  chan telemetryMsg
	done   chan struct{}
}

var _ api.Publisher = (*mqttFeed)(nil)

func newMQTTFeed(cfg mqttConfig, topics smartdeal.Topics, log *slog.Logger) *mqttFeed {
	f := &mqttFeed{topics: topics, log: log, queue: make(chan telemetryMsg, 1024), done: make(chan struct{})}
	opts := mqtt.NewClientOptions().AddBroker(cfg.URL).SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).SetPassword(cfg.Password).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(2 * time.Second).SetMaxReconnectInterval(30 * time.Second).
		SetOrderMatters(false).
		SetOnConnectHandler(func(c mqtt.Client) {
			// Subscribing here resubscribes after every reconnect.
			c.Subscribe(topics.TelemetryFilter(), 0, f.onMessage)
			// Retained status messages arrive at once: every device's last state.
			c.Subscribe(topics.Device("+", "+", smartdeal.ChannelStatus), 1, f.onMessage)
			log.Info("MQTT connected; live feed and device status subscribed", "filter", topics.TelemetryFilter())
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { log.Warn("MQTT connection lost", "err", err) })
	f.client = mqtt.NewClient(opts)
	return f
}

func (f *mqttFeed) onMessage(_ mqtt.Client, m mqtt.Message) {
	select {
	case f.queue <- telemetryMsg{m.Topic(), m.Payload()}:
	default: // the live feed is best effort; never block paho
	}
}

func (f *mqttFeed) start(ctx context.Context) error {
	go func() {
		defer close(f.done)
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-f.queue:
				if strings.HasSuffix(m.topic, "/"+smartdeal.ChannelStatus) {
					f.srv.HandleStatus(ctx, m.topic, m.payload)
					continue
				}
				f.hub.HandleTelemetry(f.topics, m.topic, m.payload)
			}
		}
	}()
	tok := f.client.Connect() // keeps retrying in the background (ConnectRetry)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-time.After(5 * time.Second):
		return errors.New("MQTT connect: timeout")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *mqttFeed) stop() {
	f.client.Disconnect(250)
	<-f.done
}

// Publish sends a QoS 1 message and waits for the broker's PUBACK.
func (f *mqttFeed) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if !f.client.IsConnectionOpen() {
		return errors.New("MQTT not connected")
	}
	tok := f.client.Publish(topic, 1, retained, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish %s: %w", topic, ctx.Err())
	}
}
