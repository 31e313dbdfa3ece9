// Package mqttsub adapts paho.mqtt.golang (MQTT 3.1.1) for the ingest: a
// persistent session (fixed client id, clean session off) with a QoS 1 shared
// subscription that survives reconnects, manual acknowledgement (the pipeline
// acks a message only once its points are written), and QoS 1 publishing for
// dead letters.
//
// Message handlers run on paho's router goroutine and must only hand the
// message off (a non-blocking send to a bounded queue); anything slower stalls
// keep-alives (see docs/ingest.md).
package mqttsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal/internal/tlsfiles"
)

// Config configures the MQTT client.
type Config struct {
	// URL of the broker: tcp://, ssl:// (or tls://), ws:// or wss://. Required.
	URL string `koanf:"url"`
	// ClientID must be fixed and unique per replica so the broker keeps the
	// session (and its unacknowledged messages) across restarts; defaults to
	// "smartdeal-ingest".
	ClientID string `koanf:"client_id"`
	// Username and Password authenticate to the broker (optional).
	Username string `koanf:"username"`
	Password string `koanf:"password"`
	// Group is the shared-subscription group; replicas in the same group split
	// the messages. Defaults to "ingest". Empty string with Shared false
	// subscribes without sharing.
	Group string `koanf:"group"`
	// Shared subscribes through $share/<group>/…; defaults to true.
	Shared bool `koanf:"shared"`
	// TopicPrefix of the platform's topics; defaults to "smartdeal/v1".
	TopicPrefix string `koanf:"topic_prefix"`
	// CAFile is a PEM bundle to trust for TLS (optional).
	CAFile string `koanf:"ca_file"`
	// CertFile and KeyFile are a client certificate for mutual TLS (optional, both or neither).
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// InsecureSkipVerify disables TLS certificate checks (tests only).
	InsecureSkipVerify bool `koanf:"insecure_skip_verify"`
	// KeepAlive interval; defaults to 30s.
	KeepAlive time.Duration `koanf:"keep_alive"`
	// ConnectTimeout bounds one connection attempt; defaults to 10s.
	ConnectTimeout time.Duration `koanf:"connect_timeout"`
	// MaxReconnectInterval caps the reconnect backoff; defaults to 10s.
	MaxReconnectInterval time.Duration `koanf:"max_reconnect_interval"`
}

// DefaultConfig is the configuration of a local run.
func DefaultConfig() Config {
	return Config{
		URL:                  "tcp://127.0.0.1:1883",
		ClientID:             "smartdeal-ingest",
		Group:                "ingest",
		Shared:               true,
		TopicPrefix:          "smartdeal/v1",
		KeepAlive:            30 * time.Second,
		ConnectTimeout:       10 * time.Second,
		MaxReconnectInterval: 10 * time.Second,
	}
}

// Validate checks the configuration; errors name the key under prefix
// (normally "mqtt").
func (c Config) Validate(prefix string) error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s.url: want scheme://host:port, got %q", prefix, c.URL)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return fmt.Errorf("%s.url: unsupported scheme %q (want tcp, ssl, ws or wss)", prefix, u.Scheme)
	}
	if c.ClientID == "" || len(c.ClientID) > 128 {
		return fmt.Errorf("%s.client_id: want 1 to 128 characters, got %q", prefix, c.ClientID)
	}
	if c.Shared && (c.Group == "" || strings.ContainsAny(c.Group, "/+#")) {
		return fmt.Errorf("%s.group: want a name without '/', '+' or '#', got %q", prefix, c.Group)
	}
	if c.TopicPrefix == "" || strings.ContainsAny(c.TopicPrefix, "+#") {
		return fmt.Errorf("%s.topic_prefix: want a topic without wildcards, got %q", prefix, c.TopicPrefix)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return fmt.Errorf("%s.cert_file: cert_file and key_file go together", prefix)
	}
	for key, p := range map[string]string{"ca_file": c.CAFile, "cert_file": c.CertFile, "key_file": c.KeyFile} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s.%s: %w", prefix, key, err)
		}
	}
	if c.KeepAlive < time.Second {
		return fmt.Errorf("%s.keep_alive: want ≥ 1s, got %s", prefix, c.KeepAlive)
	}
	if c.ConnectTimeout <= 0 {
		return fmt.Errorf("%s.connect_timeout: want > 0, got %s", prefix, c.ConnectTimeout)
	}
	if c.MaxReconnectInterval <= 0 {
		return fmt.Errorf("%s.max_reconnect_interval: want > 0, got %s", prefix, c.MaxReconnectInterval)
	}
	return nil
}

// Filter returns the subscription filter: $share/<group>/<prefix>/+/+/telemetry,
// or the plain filter when not shared.
func (c Config) Filter() string {
	f := strings.TrimSuffix(c.TopicPrefix, "/") + "/+/+/telemetry"
	if c.Shared {
		return "$share/" + c.Group + "/" + f
	}
	return f
}

// Client is a connected (or reconnecting) MQTT client.
type Client struct {
	cfg Config
	log *slog.Logger
	cli mqtt.Client

	mu         sync.Mutex
	subscribed bool
	lastErr    error

	// conn is the connection dialled last (tcp and TLS only): messages
	// handled now came in on it and are acked on it directly (see ack.go).
	conn atomic.Pointer[bufConn]
}

// ErrNotConnected is returned by Ready while the client is not connected and
// subscribed.
var ErrNotConnected = errors.New("mqtt: not connected")

// New builds a client that will deliver every message of the telemetry
// subscription to handle. handle runs on paho's router goroutine: it must only
// hand the message off.
func New(cfg Config, log *slog.Logger, handle func(mqtt.Message)) (*Client, error) {
	if err := cfg.Validate("mqtt"); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConf, err := tlsfiles.Files{CA: cfg.CAFile, Cert: cfg.CertFile, Key: cfg.KeyFile, InsecureSkipVerify: cfg.InsecureSkipVerify,
		CAKey: "mqtt.ca_file", CertKey: "mqtt.cert_file"}.Config()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, log: log.With("broker", redact(cfg.URL), "client_id", cfg.ClientID)}
	handler := func(_ mqtt.Client, m mqtt.Message) { handle(wrap(m, c.conn.Load())) }
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.URL).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetOrderMatters(true). // handle only hands off, so in-order delivery costs nothing
		SetKeepAlive(cfg.KeepAlive).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(cfg.MaxReconnectInterval).
		SetDefaultPublishHandler(handler).
		SetOnConnectHandler(func(cli mqtt.Client) { c.onConnect(cli, handler) }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			c.setState(false, err)
			c.log.Warn("mqtt connection lost", "err", err)
		}).
		SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) {
			c.log.Info("mqtt reconnecting")
		})
	if tlsConf != nil {
		opts.SetTLSConfig(tlsConf)
	}
	if u, _ := url.Parse(cfg.URL); buffered(u.Scheme) {
		opts.SetCustomOpenConnectionFn(func(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			conn, err := dialBuffered(uri, o)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			c.conn.Store(conn)
			return conn, nil
		})
		opts.SetStore(inboundlessStore{mqtt.NewMemoryStore()})
	}
	c.cli = mqtt.NewClient(opts)
	return c, nil
}

func (c *Client) onConnect(cli mqtt.Client, handler mqtt.MessageHandler) {
	filter := c.cfg.Filter()
	tok := cli.Subscribe(filter, 1, handler)
	if !tok.WaitTimeout(c.cfg.ConnectTimeout) {
		c.setState(false, fmt.Errorf("mqtt subscribe %s: timeout", filter))
		c.log.Error("mqtt subscribe timed out", "filter", filter)
		return
	}
	if err := tok.Error(); err != nil {
		c.setState(false, fmt.Errorf("mqtt subscribe %s: %w", filter, err))
		c.log.Error("mqtt subscribe failed", "filter", filter, "err", err)
		return
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code == 0x80 {
				err := fmt.Errorf("mqtt subscribe %s: refused by broker (ACL?)", filter)
				c.setState(false, err)
				c.log.Error("mqtt subscribe refused", "filter", filter)
				return
			}
		}
	}
	c.setState(true, nil)
	c.log.Info("mqtt connected and subscribed", "filter", filter)
}

func (c *Client) setState(subscribed bool, err error) {
	c.mu.Lock()
	c.subscribed, c.lastErr = subscribed, err
	c.mu.Unlock()
}

// Connect starts connecting and returns once the first connection is up, or
// when ctx ends (the client then keeps trying in the background until Close).
func (c *Client) Connect(ctx context.Context) error {
	tok := c.cli.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt connect %s: %w", redact(c.cfg.URL), err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt connect %s: %w", redact(c.cfg.URL), ctx.Err())
	}
}

// Ready returns nil when the client is connected and subscribed.
func (c *Client) Ready(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subscribed && c.cli.IsConnectionOpen() {
		return nil
	}
	if c.lastErr != nil {
		return fmt.Errorf("%w: %w", ErrNotConnected, c.lastErr)
	}
	return ErrNotConnected
}

// Publish sends payload at QoS 1 (not retained) and waits until the broker
// acknowledged it or ctx ends.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte) error {
	tok := c.cli.Publish(topic, 1, false, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt publish %s: %w", topic, ctx.Err())
	}
}

// Close disconnects, giving queued acknowledgements up to quiesce to go out.
// The session (and every unacknowledged message) stays on the broker.
func (c *Client) Close(quiesce time.Duration) {
	// PUBACKs of the last batch sit in the connection's write buffer: put
	// them on the wire before paho disconnects.
	if conn := c.conn.Load(); conn != nil {
		if err := conn.Flush(quiesce); err != nil {
			c.log.Warn("mqtt: acknowledgements not flushed before disconnect; the broker will redeliver", "err", err)
		}
	}
	c.cli.Disconnect(uint(quiesce / time.Millisecond))
	c.setState(false, errors.New("closed"))
}

// redact drops credentials from a URL before it is logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid-url"
	}
	u.User = nil
	return u.String()
}
