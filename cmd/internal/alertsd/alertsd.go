// Package alertsd wires the alert evaluator (dashboards/alerting) to its
// adapters — an MQTT client (paho) on the evaluator's own shared
// subscription, the relational store (dashboards/sqlstore), the InfluxDB
// reader (dashboards/measure) and the mail sender (dashboards/mail) — so that
// cmd/alerts and the all-in-one start the same service the same way: New,
// then Run. See docs/alerts.md.
package alertsd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/telemetry"
)

// MQTTConfig is the evaluator's broker connection.
type MQTTConfig struct {
	// URL of the broker; defaults to tcp://127.0.0.1:1883.
	URL string `koanf:"url"`
	// ClientID must be unique per replica; defaults to smartdeal-alerts.
	ClientID string `koanf:"client_id"`
	Username string `koanf:"username"`
	Password string `koanf:"password"`
	// Group is the evaluator's shared-subscription group: replicas in it
	// split the readings. Defaults to "alerts"; never the ingest's group.
	Group       string `koanf:"group"`
	TopicPrefix string `koanf:"topic_prefix"`
	// Queue bounds the readings messages waiting for evaluation (defaults
	// to 10000); beyond it messages are dropped and counted.
	Queue int `koanf:"queue"`
	// Workers evaluate in parallel, one series always on the same worker
	// (defaults to 4).
	Workers int `koanf:"workers"`
}

// InfluxConfig is where the readings are read back (windows, silences, ATMO).
type InfluxConfig struct {
	URL    string `koanf:"url"`
	Token  string `koanf:"token"`
	Org    string `koanf:"org"`
	Bucket string `koanf:"bucket"`
	// Engine: auto, influxql or flux.
	Engine string `koanf:"engine"`
}

// Config is the evaluator's configuration.
type Config struct {
	// DB is a SQLite path or a postgres:// URL, the API's database.
	DB     string          `koanf:"db"`
	MQTT   MQTTConfig      `koanf:"mqtt"`
	Influx InfluxConfig    `koanf:"influx"`
	Alerts alerting.Config `koanf:"alerts"`
	// Mail is the SMTP relay; without mail.host, mail is written to the log.
	Mail mail.Config `koanf:"mail"`
}

// DefaultConfig is a local run.
func DefaultConfig() Config {
	return Config{
		DB:     "smartdeal.db",
		MQTT:   MQTTConfig{URL: "tcp://127.0.0.1:1883", ClientID: "smartdeal-alerts", Group: "alerts", TopicPrefix: smartdeal.DefaultTopicPrefix, Queue: 10000, Workers: 4},
		Influx: InfluxConfig{URL: "http://127.0.0.1:8086", Bucket: "smartdeal/autogen", Engine: measure.EngineAuto},
		Alerts: alerting.DefaultConfig(),
	}
}

// IngestGroup is the ingest's shared-subscription group, which the
// evaluator must never join (it would take readings from the ingest).
const IngestGroup = "ingest"

// Validate checks the configuration; errors name the YAML key.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DB) == "" {
		return errors.New("db: required (SQLite path or postgres:// URL)")
	}
	if u, err := url.Parse(c.MQTT.URL); err != nil || u.Host == "" {
		return fmt.Errorf("mqtt.url: want scheme://host:port, got %q", c.MQTT.URL)
	}
	if c.MQTT.ClientID == "" {
		return errors.New("mqtt.client_id: required, unique per replica")
	}
	if c.MQTT.Group == "" || strings.ContainsAny(c.MQTT.Group, "/+#") || c.MQTT.Group == IngestGroup {
		return fmt.Errorf("mqtt.group: a name without '/', '+' or '#', not the ingest's %q", IngestGroup)
	}
	if c.MQTT.TopicPrefix == "" || strings.ContainsAny(c.MQTT.TopicPrefix, "+#") {
		return errors.New("mqtt.topic_prefix: a topic without wildcards")
	}
	if c.MQTT.Queue < 1 || c.MQTT.Workers < 1 || c.MQTT.Workers > 64 {
		return errors.New("mqtt.queue: at least 1; mqtt.workers: 1…64")
	}
	if c.Influx.URL == "" || c.Influx.Bucket == "" {
		return errors.New("influx.url, influx.bucket: required")
	}
	c.Alerts.TopicPrefix = c.MQTT.TopicPrefix
	if err := c.Alerts.Validate(); err != nil {
		return err
	}
	return c.Mail.Validate("mail")
}

// App is a running evaluator.
type App struct {
	cfg   Config
	log   *slog.Logger
	store *sqlstore.Store
	meas  *measure.Client
	svc   *alerting.Service
	cli   mqtt.Client
	dec   telemetry.Decoder

	queues    []chan mqtt.Message
	ready     atomic.Bool
	dropped   prometheus.Counter
	malformed prometheus.Counter
}

// New opens the store and the reader and builds the service; Run connects.
func New(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := sqlstore.Open(ctx, sqlstore.Config{DSN: cfg.DB, Logger: log.With("component", "sqlstore")})
	if err != nil {
		return nil, err
	}
	meas, err := measure.New(measure.Config{URL: cfg.Influx.URL, Token: cfg.Influx.Token, Org: cfg.Influx.Org, Bucket: cfg.Influx.Bucket,
		Engine: cfg.Influx.Engine}, log.With("component", "measure"))
	if err != nil {
		st.Close()
		return nil, err
	}
	mailer, err := mail.New(cfg.Mail, log.With("component", "mail"))
	if err != nil {
		st.Close()
		meas.Close()
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: st, meas: meas, dec: telemetry.Decoder{Topics: smartdeal.Topics{Prefix: cfg.MQTT.TopicPrefix}},
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "smartdeal_alerts_dropped_total",
			Help: "Telemetry messages dropped because the evaluation queue was full."}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{Name: "smartdeal_alerts_malformed_total",
			Help: "Telemetry or status messages the evaluator could not decode (the ingest dead-letters the telemetry)."}),
	}
	a.svc, err = alerting.New(cfg.Alerts, alerting.Deps{Store: st, Measurements: reader{meas}, Publisher: a, Mailer: mailer2{mailer},
		Log: log.With("component", "alerts")})
	if err != nil {
		st.Close()
		meas.Close()
		return nil, err
	}
	if reg != nil {
		m := a.svc.Metrics()
		for _, c := range []prometheus.Collector{a.dropped, a.malformed,
			counter("smartdeal_alerts_readings_total", "Readings evaluated.", &m.Readings),
			counter("smartdeal_alerts_fired_total", "Alerts fired by this replica.", &m.Fired),
			counter("smartdeal_alerts_cleared_total", "Alerts cleared by this replica.", &m.Cleared),
			counter("smartdeal_alerts_conflicts_total", "State writes that lost a compare-and-set to another replica (then decided again).", &m.Conflicts),
			counter("smartdeal_alerts_late_total", "Samples older than the newest evaluated (out of order).", &m.Late),
			counter("smartdeal_alerts_errors_total", "Evaluations that failed (store errors).", &m.Errors),
			counter("smartdeal_alerts_delivered_total", "Notifications delivered (MQTT, webhooks, mail).", &m.Delivered),
			counter("smartdeal_alerts_delivery_failures_total", "Failed delivery attempts (retried with backoff).", &m.DeliveryFailures),
			counter("smartdeal_alerts_dead_letters_total", "Notifications abandoned after the last attempt.", &m.DeadLetters),
		} {
			if err := reg.Register(c); err != nil {
				st.Close()
				meas.Close()
				return nil, err
			}
		}
	}
	for range cfg.MQTT.Workers {
		a.queues = append(a.queues, make(chan mqtt.Message, max(1, cfg.MQTT.Queue/cfg.MQTT.Workers)))
	}
	a.cli = mqtt.NewClient(a.options())
	return a, nil
}

func counter(name, help string, v *atomic.Int64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
}

// Service is the evaluator's service: the API phase 2's web layer calls.
func (a *App) Service() *alerting.Service { return a.svc }

// Store is the relational store the evaluator opened.
func (a *App) Store() *sqlstore.Store { return a.store }

func (a *App) telemetryFilter() string {
	return "$share/" + a.cfg.MQTT.Group + "/" + smartdeal.Topics{Prefix: a.cfg.MQTT.TopicPrefix}.TelemetryFilter()
}

func (a *App) statusFilter() string {
	return strings.TrimSuffix(a.cfg.MQTT.TopicPrefix, "/") + "/+/+/" + smartdeal.ChannelStatus
}

// options: a clean session (the evaluation state is in the store, not in
// the broker's queue: a replica that dies leaves its share to the others at
// once), QoS 1, subscriptions renewed on every connect.
func (a *App) options() *mqtt.ClientOptions {
	handler := func(_ mqtt.Client, m mqtt.Message) { a.enqueue(m) }
	return mqtt.NewClientOptions().AddBroker(a.cfg.MQTT.URL).SetClientID(a.cfg.MQTT.ClientID).
		SetUsername(a.cfg.MQTT.Username).SetPassword(a.cfg.MQTT.Password).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).SetKeepAlive(30 * time.Second).
		SetOrderMatters(true). // the handler only hands off
		SetDefaultPublishHandler(handler).
		SetOnConnectHandler(func(c mqtt.Client) {
			filters := map[string]byte{a.telemetryFilter(): 1, a.statusFilter(): 1}
			tok := c.SubscribeMultiple(filters, handler)
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				a.log.Error("mqtt subscribe failed", "err", tok.Error())
				return
			}
			a.ready.Store(true)
			a.log.Info("mqtt connected and subscribed", "telemetry", a.telemetryFilter(), "status", a.statusFilter())
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			a.ready.Store(false)
			a.log.Warn("mqtt connection lost", "err", err)
		})
}

// enqueue hands a message to the worker of its topic (one series, one
// worker: its readings are evaluated in order).
func (a *App) enqueue(m mqtt.Message) {
	h := fnv.New32a()
	h.Write([]byte(m.Topic()))
	select {
	case a.queues[int(h.Sum32())%len(a.queues)] <- m:
	default:
		a.dropped.Inc()
	}
}

// Run connects and evaluates until ctx ends.
func (a *App) Run(ctx context.Context) error {
	defer a.store.Close()
	defer a.meas.Close()
	var wg sync.WaitGroup
	for _, q := range a.queues {
		wg.Add(1)
		go func() { defer wg.Done(); a.work(ctx, q) }()
	}
	svcErr := make(chan error, 1)
	go func() { svcErr <- a.svc.Run(ctx) }()
	tok := a.cli.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			a.log.Error("mqtt connect failed; retrying", "err", err)
		}
	case <-ctx.Done():
	}
	<-ctx.Done()
	a.cli.Disconnect(500)
	wg.Wait()
	return <-svcErr
}

func (a *App) work(ctx context.Context, q chan mqtt.Message) {
	var buf []smartdeal.Reading
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-q:
			a.handle(ctx, m, &buf)
		}
	}
}

func (a *App) handle(ctx context.Context, m mqtt.Message, buf *[]smartdeal.Reading) {
	topic := m.Topic()
	if strings.HasSuffix(topic, "/"+smartdeal.ChannelStatus) {
		site, device, _, err := a.dec.Topics.Parse(topic)
		var st live.DeviceStatus
		if err != nil || json.Unmarshal(m.Payload(), &st) != nil || (st.State != "online" && st.State != "offline") {
			a.malformed.Inc()
			return
		}
		if st.Time.IsZero() || st.Time.After(time.Now().Add(smartdeal.MaxFutureSkew)) {
			st.Time = time.Now()
		}
		if err := a.svc.HandleStatus(ctx, site, device, st.State == "offline", st.Time); err != nil && ctx.Err() == nil {
			a.log.Warn("alerts: status not evaluated", "topic", topic, "err", err)
		}
		return
	}
	msg, err := a.dec.Decode(topic, m.Payload(), time.Now(), (*buf)[:0])
	*buf = msg.Readings
	if err != nil {
		a.malformed.Inc()
		return
	}
	if err := a.svc.HandleReadings(ctx, msg.Readings); err != nil && ctx.Err() == nil {
		a.log.Warn("alerts: readings not evaluated", "topic", topic, "err", err)
	}
}

// Publish implements alerting.Publisher: QoS 1, waiting for the broker.
func (a *App) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if !a.cli.IsConnectionOpen() {
		return errors.New("mqtt: not connected")
	}
	tok := a.cli.Publish(topic, 1, retained, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt publish %s: %w", topic, ctx.Err())
	case <-time.After(10 * time.Second):
		return fmt.Errorf("mqtt publish %s: timeout", topic)
	}
}

// BrokerReady returns nil when the client is connected and subscribed.
func (a *App) BrokerReady(context.Context) error {
	if a.ready.Load() && a.cli.IsConnectionOpen() {
		return nil
	}
	return errors.New("mqtt: not connected")
}

// DatabaseReady pings the store.
func (a *App) DatabaseReady(ctx context.Context) error { return a.store.Ping(ctx) }

// reader adapts measure.Client to alerting.Measurements.
type reader struct{ c *measure.Client }

func (r reader) Latest(ctx context.Context, site, device, quantity string, lookback time.Duration) ([]alerting.Latest, error) {
	ls, err := r.c.Series(ctx, measure.Filter{Site: site, Device: device, Quantity: quantity, Lookback: lookback})
	if err != nil {
		return nil, err
	}
	out := make([]alerting.Latest, 0, len(ls))
	for _, l := range ls {
		out = append(out, alerting.Latest{Site: l.Site, Device: l.Device, Quantity: l.Quantity, Unit: l.Unit, Time: l.Time})
	}
	return out, nil
}

func (r reader) Samples(ctx context.Context, site, device, quantity string, start, stop time.Time, every time.Duration, agg string) ([]alerting.Sample, error) {
	a, err := measure.ParseAggregate(agg)
	if err != nil {
		return nil, err
	}
	d, err := r.c.Range(ctx, measure.RangeQuery{SeriesKey: measure.SeriesKey{Site: site, Device: device, Quantity: quantity},
		Start: start, Stop: stop, Agg: a, Every: every, MaxPoints: measure.MaxPointsLimit})
	if err != nil {
		return nil, err
	}
	out := make([]alerting.Sample, 0, len(d.Points))
	for _, p := range d.Points {
		out = append(out, alerting.Sample{Time: p.Time, Value: p.Value})
	}
	return out, nil
}

func (r reader) Atmo(ctx context.Context, site string, day, now time.Time) (*atmo.Index, error) {
	return r.c.Atmo(ctx, site, day, now)
}

// mailer2 adapts mail.Sender to alerting.Mailer.
type mailer2 struct{ s mail.Sender }

func (m mailer2) SendMail(ctx context.Context, msg alerting.Mail) error {
	return m.s.Send(ctx, mail.Message{To: msg.To, Subject: msg.Subject, Text: msg.Text})
}

// Reader adapts the InfluxDB reader to the alert service's Measurements:
// the API process builds its own alerting.Service (rules, previews, people's
// changes, ATMO) on the same adapters (cmd/internal/apid).
func Reader(m *measure.Client) alerting.Measurements { return reader{m} }
