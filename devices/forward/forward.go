// Package forward drains the gateway's spool to the MQTT broker with
// paho.mqtt.golang at QoS 1, removing an entry only after the broker's PUBACK.
//
// The spool is the only durable store: paho runs with a clean session and its
// in-memory store, and an entry that was published but not acknowledged when the
// connection dropped is simply published again from the spool on the next
// connection (a duplicate, which the platform tolerates).
//
// # Two lanes after an outage
//
// When a connection comes up, the newest spool seq is taken as the boundary.
// Entries up to the boundary are the backlog; entries appended later are live.
//
//   - The live lane publishes new entries as soon as they are appended, oldest
//     first, without pacing: the dashboards see current values right away.
//   - The backlog lane publishes the backlog oldest first, paced by a token bucket
//     at Options.DrainRate messages per second, so a long outage does not saturate
//     a 4G link or the broker when the gateway comes back.
//
// Both lanes share the in-flight window (Options.MaxInflight unacknowledged
// publishes); the live lane is served first. Within each lane, entries are
// published in spool order, so each device's messages are in order; across the
// lanes, live messages can overtake the backlog of the same device (readings
// carry their own timestamps, and InfluxDB orders by time). Options.StrictOrder
// disables the live lane: everything goes out in spool order, and the pacing
// applies until the backlog is drained.
package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal/devices/spool"
)

// ErrNotConnected is returned by Publish while there is no broker connection.
var ErrNotConnected = errors.New("not connected to the broker")

// Source is what the forwarder drains; *spool.Spool implements it.
type Source interface {
	Peek(after uint64, n int) ([]spool.Entry, error)
	Remove(seqs ...uint64) error
	// Delivered marks acknowledged entries at once, before the batched Remove.
	Delivered(seqs ...uint64)
	Notify() <-chan struct{}
	LastSeq() uint64
}

var _ Source = (*spool.Spool)(nil)

// Message is an MQTT message sent outside the spool (last will, status).
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Handler receives a message on a subscribed topic. It runs on paho's goroutine:
// it must only hand the message off (e.g. to a buffered channel), never block.
type Handler func(topic string, payload []byte)

// Defaults of Options.
const (
	DefaultMaxInflight    = 64
	DefaultDrainRate      = 100
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = time.Minute
	DefaultPublishTimeout = 30 * time.Second
	DefaultRemoveInterval = time.Second
	DefaultKeepAlive      = 30 * time.Second
)

// Options configures a forwarder.
type Options struct {
	// Broker is the broker URL: tcp://, ssl://, tls://, mqtt://, mqtts://, ws:// or wss://.
	Broker string
	// ClientID identifies the gateway to the broker.
	ClientID string
	// Username and Password (optional).
	Username, Password string
	// TLS (optional) for ssl://, tls://, mqtts:// and wss:// brokers.
	TLS *tls.Config
	// KeepAlive (optional, defaults to 30 s).
	KeepAlive time.Duration
	// MaxInflight bounds unacknowledged publishes (optional, defaults to 64).
	// Keep it at or below the broker's max_inflight_messages.
	MaxInflight int
	// DrainRate is the backlog's pace in messages per second after an outage
	// (optional, defaults to 100).
	DrainRate float64
	// StrictOrder sends everything in spool order, with no live lane (optional).
	StrictOrder bool
	// BackoffMin and BackoffMax bound the reconnection delay, which doubles after
	// each failed attempt, with jitter (optional, default 1 s and 1 min).
	BackoffMin, BackoffMax time.Duration
	// PublishTimeout is how long to wait for a PUBACK before the connection is
	// considered broken (optional, defaults to 30 s).
	PublishTimeout time.Duration
	// RemoveInterval is how often acknowledged entries are removed from the
	// spool in one batch (optional, defaults to 1 s). A crash in between only
	// causes duplicates.
	RemoveInterval time.Duration
	// Will is the last will (optional), e.g. the retained offline status.
	Will *Message
	// OnConnect is called in its own goroutine after each connection is up and
	// subscribed (optional), e.g. to publish the online status.
	OnConnect func(ctx context.Context)
	// Logger (optional, defaults to slog.Default()).
	Logger *slog.Logger
}

// Validate checks the options; errors name the field.
func (o Options) Validate() error {
	if o.Broker == "" {
		return errors.New("broker.url: required")
	}
	u, err := url.Parse(o.Broker)
	if err != nil {
		return fmt.Errorf("broker.url: %w", err)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return fmt.Errorf("broker.url: scheme %q, want tcp, mqtt, ssl, tls, mqtts, ws or wss", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("broker.url: %q has no host", o.Broker)
	}
	if o.ClientID == "" || len(o.ClientID) > 128 {
		return fmt.Errorf("broker.client_id: want 1 to 128 characters, got %d", len(o.ClientID))
	}
	switch {
	case o.MaxInflight < 0 || o.MaxInflight > 65000:
		return fmt.Errorf("forward.max_inflight: want 1 to 65000, got %d", o.MaxInflight)
	case o.DrainRate < 0:
		return fmt.Errorf("forward.drain_rate: must not be negative, got %g", o.DrainRate)
	case o.BackoffMin < 0 || o.BackoffMax < 0 || (o.BackoffMax > 0 && o.BackoffMin > o.BackoffMax):
		return fmt.Errorf("forward.backoff: want 0 <= min <= max, got %s and %s", o.BackoffMin, o.BackoffMax)
	case o.PublishTimeout < 0:
		return fmt.Errorf("forward.publish_timeout: must not be negative, got %s", o.PublishTimeout)
	case o.Will != nil && o.Will.Topic == "":
		return errors.New("forward.will.topic: required when a will is set")
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.MaxInflight == 0 {
		o.MaxInflight = DefaultMaxInflight
	}
	if o.DrainRate == 0 {
		o.DrainRate = DefaultDrainRate
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMin > o.BackoffMax {
		o.BackoffMin = o.BackoffMax
	}
	if o.PublishTimeout == 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.RemoveInterval == 0 {
		o.RemoveInterval = DefaultRemoveInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Stats are the forwarder's counters since it was created.
type Stats struct {
	Connected   bool
	Connects    uint64    // successful connections
	ConnectErrs uint64    // failed connection attempts
	LastConnect time.Time // when the current or last connection came up
	Boundary    uint64    // spool seq separating backlog from live at the last connection
	BacklogLeft bool      // the backlog of the current connection is not drained yet
	LiveSent    uint64    // publishes on the live lane
	BacklogSent uint64    // publishes on the backlog lane
	Acked       uint64    // PUBACKs received
	Failed      uint64    // publishes that failed or timed out (they will be sent again)
	Inflight    int64     // publishes waiting for their PUBACK
	RemoveErrs  uint64    // failed spool removals (the entries will be sent again)
}

// Forwarder owns the MQTT connection of a gateway.
type Forwarder struct {
	src  Source
	opts Options
	log  *slog.Logger

	client mqtt.Client
	lost   chan error

	mu     sync.Mutex
	subs   map[string]Handler
	stats  Stats
	runCtx context.Context

	inflight atomic.Int64
}

// New checks the options and prepares a forwarder; Run connects.
func New(src Source, opts Options) (*Forwarder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	f := &Forwarder{
		src:  src,
		opts: opts,
		log:  opts.Logger.With("broker", opts.Broker, "client_id", opts.ClientID),
		lost: make(chan error, 1),
		subs: map[string]Handler{},
	}
	co := mqtt.NewClientOptions().
		AddBroker(opts.Broker).
		SetClientID(opts.ClientID).
		SetCleanSession(true).
		SetAutoReconnect(false). // Run reconnects, so that it knows each new connection
		SetConnectRetry(false).
		SetKeepAlive(opts.KeepAlive).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(15 * time.Second).
		SetWriteTimeout(opts.PublishTimeout).
		SetOrderMatters(false).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case f.lost <- err:
			default:
			}
		})
	if opts.Username != "" {
		co.SetUsername(opts.Username)
		co.SetPassword(opts.Password)
	}
	if opts.TLS != nil {
		co.SetTLSConfig(opts.TLS)
	}
	if opts.Will != nil {
		co.SetBinaryWill(opts.Will.Topic, opts.Will.Payload, 1, opts.Will.Retained)
	}
	f.client = mqtt.NewClient(co)
	return f, nil
}

// Subscribe registers a handler for a topic filter, subscribed at QoS 1 on every
// connection. Call it before Run.
func (f *Forwarder) Subscribe(filter string, h Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[filter] = h
}

// Stats returns a snapshot of the counters.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.Inflight = f.inflight.Load()
	return s
}

// Publish sends a message outside the spool at QoS 1 and waits for its PUBACK.
// It fails with ErrNotConnected while the forwarder is offline.
func (f *Forwarder) Publish(ctx context.Context, m Message) error {
	if !f.client.IsConnectionOpen() {
		return ErrNotConnected
	}
	tok := f.client.Publish(m.Topic, 1, m.Retained, m.Payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish %s: %w", m.Topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish %s: %w", m.Topic, ctx.Err())
	}
}

// Run connects, reconnects with backoff and forwards the spool until ctx ends.
// On shutdown it stops publishing, waits for the PUBACKs of what is in flight,
// removes the acknowledged entries, and disconnects. It returns nil when ctx
// ends.
func (f *Forwarder) Run(ctx context.Context) error {
	f.mu.Lock()
	f.runCtx = ctx
	f.mu.Unlock()
	backoff := f.opts.BackoffMin
	for {
		err := f.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			f.mu.Lock()
			f.stats.ConnectErrs++
			n := f.stats.ConnectErrs
			f.mu.Unlock()
			wait := backoff/2 + rand.N(backoff/2+1)
			if n == 1 || n%10 == 0 {
				f.log.Warn("broker connection failed", "err", err, "retry_in", wait, "failures", n)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			backoff = min(backoff*2, f.opts.BackoffMax)
			continue
		}
		backoff = f.opts.BackoffMin
		f.session(ctx)
		f.mu.Lock()
		f.stats.Connected = false
		f.stats.BacklogLeft = false
		f.mu.Unlock()
		if ctx.Err() != nil {
			f.client.Disconnect(250)
			return nil
		}
		// The session ended on a lost connection or a failed publish: make sure
		// paho is fully disconnected before the next attempt.
		f.client.Disconnect(0)
	}
}

func (f *Forwarder) connect(ctx context.Context) error {
	// Drop a stale connection-lost signal from the previous connection.
	select {
	case <-f.lost:
	default:
	}
	tok := f.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	f.mu.Lock()
	subs := make(map[string]Handler, len(f.subs))
	for k, v := range f.subs {
		subs[k] = v
	}
	f.mu.Unlock()
	for filter, h := range subs {
		st := f.client.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { h(m.Topic(), m.Payload()) })
		if !st.WaitTimeout(f.opts.PublishTimeout) || st.Error() != nil {
			f.client.Disconnect(0)
			return fmt.Errorf("subscribe %s: %v", filter, errors.Join(st.Error(), errors.New("timeout or refused")))
		}
	}
	return nil
}

// pending is one publish waiting for its PUBACK.
type pending struct {
	seq uint64
	tok mqtt.Token
}

// session forwards until the connection is lost, a publish fails or ctx ends.
func (f *Forwarder) session(ctx context.Context) {
	boundary := f.src.LastSeq()
	now := time.Now()
	f.mu.Lock()
	f.stats.Connected = true
	f.stats.Connects++
	f.stats.LastConnect = now
	f.stats.Boundary = boundary
	f.stats.BacklogLeft = true
	f.mu.Unlock()
	f.log.Info("connected to broker", "backlog_boundary", boundary)
	if f.opts.OnConnect != nil {
		go f.opts.OnConnect(ctx)
	}

	slots := make(chan struct{}, f.opts.MaxInflight)
	queue := make(chan pending, f.opts.MaxInflight)
	failed := make(chan struct{})
	ackerDone := make(chan struct{})
	go f.acker(queue, slots, failed, ackerDone)
	defer func() {
		close(queue)
		<-ackerDone
	}()

	var (
		liveAfter   = boundary // live lane cursor
		backAfter   uint64     // backlog lane cursor
		backlogDone bool
		tokens      = 1.0
		burst       = max(1, min(f.opts.DrainRate/10, float64(f.opts.MaxInflight)))
		last        = now
	)
	// send publishes one entry once an in-flight slot is free.
	send := func(e spool.Entry, live bool) bool {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return false
		case <-failed:
			return false
		}
		tok := f.client.Publish(e.Topic, 1, false, e.Payload)
		f.inflight.Add(1)
		queue <- pending{seq: e.Seq, tok: tok} // never blocks: as many places as slots
		f.mu.Lock()
		if live {
			f.stats.LiveSent++
		} else {
			f.stats.BacklogSent++
		}
		f.mu.Unlock()
		return true
	}
	// lane publishes up to n entries after *cursor; stop > 0 ends the lane there.
	// It reports how many it sent, whether it reached stop, and false on failure.
	lane := func(cursor *uint64, n int, stop uint64, live bool) (sent int, reached bool, ok bool) {
		es, err := f.src.Peek(*cursor, n)
		if err != nil {
			f.log.Error("spool peek failed", "err", err)
			return 0, false, false
		}
		for _, e := range es {
			if stop > 0 && e.Seq > stop {
				return sent, true, true
			}
			if !send(e, live) {
				return sent, false, false
			}
			*cursor = e.Seq
			sent++
		}
		return sent, len(es) < n || (stop > 0 && *cursor >= stop), true
	}
	const peekN = 64
	for {
		select {
		case <-ctx.Done():
			return
		case <-failed:
			return
		case err := <-f.lost:
			f.log.Warn("broker connection lost", "err", err)
			return
		default:
		}
		progressed := false
		if !f.opts.StrictOrder {
			sent, _, ok := lane(&liveAfter, peekN, 0, true)
			if !ok {
				return
			}
			progressed = sent > 0
		}
		var wait time.Duration
		if !backlogDone {
			t := time.Now()
			tokens = min(burst, tokens+t.Sub(last).Seconds()*f.opts.DrainRate)
			last = t
			if n := int(tokens); n == 0 {
				wait = time.Duration((1 - tokens) / f.opts.DrainRate * float64(time.Second))
			} else {
				if boundary == 0 {
					backlogDone = true // nothing was ever spooled: no backlog
				} else {
					sent, reached, ok := lane(&backAfter, min(n, peekN), boundary, false)
					if !ok {
						return
					}
					tokens -= float64(sent)
					progressed = progressed || sent > 0
					backlogDone = reached
				}
				if backlogDone {
					f.mu.Lock()
					f.stats.BacklogLeft = false
					f.mu.Unlock()
					f.log.Info("backlog drained", "boundary", boundary)
				}
			}
		}
		if backlogDone && f.opts.StrictOrder {
			// Past the backlog, strict order sends everything unpaced.
			sent, _, ok := lane(&backAfter, peekN, 0, true)
			if !ok {
				return
			}
			progressed = progressed || sent > 0
		}
		if progressed {
			continue
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-failed:
			return
		case err := <-f.lost:
			f.log.Warn("broker connection lost", "err", err)
			return
		case <-f.src.Notify():
		case <-timer:
		}
	}
}

// acker waits for PUBACKs in publish order and removes acknowledged entries
// from the spool in batches. On the first failure it closes failed; it keeps
// draining the queue until the session closes it.
func (f *Forwarder) acker(queue <-chan pending, slots <-chan struct{}, failed chan struct{}, done chan struct{}) {
	defer close(done)
	var acked []uint64
	flush := func() {
		if len(acked) == 0 {
			return
		}
		if err := f.src.Remove(acked...); err != nil {
			f.mu.Lock()
			f.stats.RemoveErrs++
			f.mu.Unlock()
			f.log.Error("spool remove failed; entries will be sent again", "err", err, "entries", len(acked))
		}
		acked = acked[:0]
	}
	defer flush()
	tick := time.NewTicker(f.opts.RemoveInterval)
	defer tick.Stop()
	isFailed := false
	for {
		var p pending
		var ok bool
		select {
		case p, ok = <-queue:
		case <-tick.C:
			flush()
			continue
		}
		if !ok {
			return
		}
		done := p.tok.WaitTimeout(f.opts.PublishTimeout)
		f.inflight.Add(-1)
		<-slots
		err := p.tok.Error()
		if done && err == nil {
			f.src.Delivered(p.seq)
			acked = append(acked, p.seq)
			f.mu.Lock()
			f.stats.Acked++
			f.mu.Unlock()
			if len(acked) >= 1024 {
				flush()
			}
			continue
		}
		if err == nil {
			err = fmt.Errorf("no PUBACK after %s", f.opts.PublishTimeout)
		}
		f.mu.Lock()
		f.stats.Failed++
		f.mu.Unlock()
		if !isFailed {
			isFailed = true
			close(failed)
			f.log.Warn("publish failed; will resend from the spool", "seq", p.seq, "err", err)
			// A timeout leaves the connection up: drop it so that the
			// remaining tokens complete and the session restarts.
			if !done {
				f.client.Disconnect(0)
			}
		}
	}
}
