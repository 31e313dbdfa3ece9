package apid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/live"
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
// ingest is the durable path) and status. Telemetry goes to the live hub,
// status to the live status recorder (package live). The paho callback only
// hands messages to a bounded queue; one goroutine decodes them.
type mqttFeed struct {
	client     mqtt.Client
	url        string
	topics     smartdeal.Topics
	log        *slog.Logger
	hub        *live.Hub
	status     *live.StatusRecorder
	queue      chan telemetryMsg
	done       chan struct{} // closed when the decoding goroutine ends
	stopping   chan struct{} // closed before disconnecting
	stopOnce   sync.Once
	subscribed atomic.Bool
	lastErr    atomic.Pointer[error]
}

var _ api.Publisher = (*mqttFeed)(nil)

func newMQTTFeed(cfg MQTTConfig, topics smartdeal.Topics, log *slog.Logger) *mqttFeed {
	f := &mqttFeed{url: cfg.URL, topics: topics, log: log, queue: make(chan telemetryMsg, 1024),
		done: make(chan struct{}), stopping: make(chan struct{})}
	opts := mqtt.NewClientOptions().AddBroker(cfg.URL).SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).SetPassword(cfg.Password).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(2 * time.Second).SetMaxReconnectInterval(30 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetOrderMatters(false).
		SetOnConnectHandler(f.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			f.subscribed.Store(false)
			f.setErr(err)
			log.Warn("MQTT connection lost", "err", err)
		}).
		SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
			switch n := n.(type) {
			case mqtt.ConnectionNotificationBrokerFailed:
				f.setErr(n.Reason)
			case mqtt.ConnectionNotificationFailed:
				f.setErr(n.Reason)
			}
		})
	f.client = mqtt.NewClient(opts)
	return f
}

func (f *mqttFeed) setErr(err error) {
	if err != nil {
		f.lastErr.Store(&err)
	}
}

// onConnect runs in a goroutine of paho after every (re)connection:
// subscribing here resubscribes after every reconnect.
func (f *mqttFeed) onConnect(c mqtt.Client) {
	filter := f.topics.TelemetryFilter()
	toks := []mqtt.Token{
		c.Subscribe(filter, 0, f.onMessage),
		// Retained status messages arrive at once: every device's last state.
		c.Subscribe(f.topics.Device("+", "+", smartdeal.ChannelStatus), 1, f.onMessage),
		// Device events (link_lost, statustext…) for the mission pages' live view.
		c.Subscribe(f.topics.Device("+", "+", smartdeal.ChannelEvent), 0, f.onMessage),
		// The evaluator's retained alert states (docs/alerts.md): alert
		// changes reach the pages through the hub.
		c.Subscribe(f.topics.AlertsFilter(), 1, f.onMessage),
	}
	for _, tok := range toks {
		select {
		case <-tok.Done():
			if err := tok.Error(); err != nil {
				f.setErr(fmt.Errorf("subscribe: %w", err))
				f.log.Warn("MQTT subscribe failed", "err", err)
				return
			}
		case <-f.stopping:
			return
		}
	}
	f.subscribed.Store(true)
	f.log.Info("MQTT connected; live feed and device status subscribed", "filter", filter)
}

func (f *mqttFeed) onMessage(_ mqtt.Client, m mqtt.Message) {
	select {
	case f.queue <- telemetryMsg{m.Topic(), m.Payload()}:
	default: // the live feed is best effort; never block paho
	}
}

// start runs the decoding goroutine until ctx ends and starts connecting; the
// connection is retried in the background (ConnectRetry). It waits up to
// grace for the first connection, then returns false if there is none yet.
func (f *mqttFeed) start(ctx context.Context, grace time.Duration) bool {
	go func() {
		defer close(f.done)
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-f.queue:
				if strings.HasPrefix(m.topic, strings.TrimSuffix(f.topics.AlertsFilter(), "#")) {
					f.hub.HandleAlert(m.payload)
					continue
				}
				if strings.HasSuffix(m.topic, "/"+smartdeal.ChannelStatus) {
					f.status.HandleStatus(ctx, m.topic, m.payload)
					continue
				}
				if strings.HasSuffix(m.topic, "/"+smartdeal.ChannelEvent) {
					f.hub.HandleEvent(f.topics, m.topic, m.payload)
					continue
				}
				f.status.HandleTelemetry(ctx, m.topic)
				f.hub.HandleTelemetry(f.topics, m.topic, m.payload)
			}
		}
	}()
	tok := f.client.Connect()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			f.setErr(err)
			return false
		}
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	f.setErr(fmt.Errorf("no connection to %s yet (retrying)", f.url))
	return false
}

// stop disconnects and waits for the decoding goroutine (start's ctx must be
// done or ending).
func (f *mqttFeed) stop() {
	f.stopOnce.Do(func() { close(f.stopping) })
	f.client.Disconnect(250)
	<-f.done
}

// ready is nil once connected and subscribed.
func (f *mqttFeed) ready() error {
	if f.client.IsConnectionOpen() && f.subscribed.Load() {
		return nil
	}
	msg := "not connected to " + f.url
	if f.client.IsConnectionOpen() {
		msg = "connected to " + f.url + ", subscriptions pending"
	}
	if p := f.lastErr.Load(); p != nil {
		return fmt.Errorf("%s: %w", msg, *p)
	}
	return errors.New(msg)
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
