// Package ingest is the telemetry pipeline between the MQTT broker and
// InfluxDB: decode → validate → batch → write → ack, with dead letters for
// what can never be written.
//
// Delivery is at least once. A message is acknowledged to the broker only
// after the points it produced are written (or after it was published to the
// dead-letter topic), so a crash at any moment leaves it unacknowledged and
// the broker redelivers it; points carry their reading's time, so a
// redelivered message overwrites itself in InfluxDB instead of duplicating.
//
// The package declares the small interfaces it consumes (Message, Store,
// Publisher); the MQTT and InfluxDB adapters live in ingest/mqttsub and
// ingest/influxstore and are wired together by cmd/internal/ingestd.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
)

// Message is one received MQTT message (paho's mqtt.Message satisfies it).
type Message interface {
	Topic() string
	Payload() []byte
	// Duplicate reports the MQTT DUP flag: the broker sent it before.
	Duplicate() bool
	// Ack acknowledges the message to the broker (PUBACK).
	Ack()
}

// Store writes line-protocol points. A failed write returns an error that
// may say what to do about it through these methods (influxstore.WriteError
// has them):
//
//	BadData() bool       // the data was refused (HTTP 400): dead-letter, don't retry
//	ConfigProblem() bool // credentials, database or bucket: retry, loudly
//
// Any other error is retried with backoff.
type Store interface {
	Write(ctx context.Context, points []byte) error
}

// Publisher publishes at QoS 1 and returns once the broker has the message.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Encoder appends the points of validated readings to dst, in the storage
// schema (influxschema.AppendPoints).
type Encoder func(dst []byte, rs []smartdeal.Reading) []byte

// Deps are the pipeline's collaborators.
type Deps struct {
	Store       Store     // required
	Encode      Encoder   // required
	DeadLetters Publisher // required
	// Log defaults to discarding.
	Log *slog.Logger
	// Registry receives the pipeline's metrics; defaults to a private registry.
	Registry prometheus.Registerer
	// Now defaults to time.Now.
	Now func() time.Time
}

// Service is the pipeline. Create it with New, feed it with Handle from the
// MQTT client's message handler, and run it with Run.
type Service struct {
	cfg    Config
	store  Store
	encode Encoder
	dl     Publisher
	log    *slog.Logger
	now    func() time.Time
	topics smartdeal.Topics
	dec    telemetry.Decoder
	m      *metrics

	// intake: Handle holds the read lock while enqueueing so that shutdown
	// (write lock) can close the queue without a send racing it.
	intakeMu   sync.RWMutex
	intakeOpen bool
	queue      chan Message
	stopping   chan struct{}

	items   chan item
	batches chan []item
	acks    chan []item
	unacked atomic.Int64
	// abandoned counts messages given up unacked (shutdown timeout): the
	// broker redelivers them to the next session.
	abandoned atomic.Int64

	writeState atomic.Pointer[writeState]
	limiter    logLimiter
	running    atomic.Bool
}

// writeState is the latest outcome of writing to the store, for readiness.
type writeState struct {
	err   error
	since time.Time
}

// item is a decoded message waiting for its points to be written.
type item struct {
	msg      Message
	site     string
	device   string
	format   string
	points   []byte
	n        int
	received time.Time
}

// New builds the pipeline. It validates cfg and deps; it starts nothing.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate("ingest"); err != nil {
		return nil, err
	}
	switch {
	case deps.Store == nil:
		return nil, errors.New("ingest: Deps.Store is required")
	case deps.Encode == nil:
		return nil, errors.New("ingest: Deps.Encode is required")
	case deps.DeadLetters == nil:
		return nil, errors.New("ingest: Deps.DeadLetters is required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Service{
		cfg:    cfg,
		store:  deps.Store,
		encode: deps.Encode,
		dl:     deps.DeadLetters,
		log:    deps.Log,
		now:    deps.Now,
		topics: smartdeal.Topics{Prefix: cfg.TopicPrefix},
		dec:    telemetry.Decoder{Topics: smartdeal.Topics{Prefix: cfg.TopicPrefix}, MaxPayload: cfg.MaxPayload},
		// Twice the window: after a reconnect the broker may resend a full
		// window while the previous connection's messages are still here.
		queue:      make(chan Message, 2*cfg.MaxInflight),
		items:      make(chan item, 4*cfg.Decoders),
		batches:    make(chan []item),
		acks:       make(chan []item, 2),
		intakeOpen: true,
		stopping:   make(chan struct{}),
		limiter:    logLimiter{every: cfg.LogInterval, last: map[string]logEntry{}},
	}
	m, err := newMetrics(deps.Registry,
		func() float64 { return float64(len(s.queue)) },
		func() float64 { return float64(s.unacked.Load()) })
	if err != nil {
		return nil, fmt.Errorf("ingest metrics: %w", err)
	}
	s.m = m
	return s, nil
}

// Handle takes one message from the MQTT client. It only enqueues: the
// queue holds twice the broker's window, so it blocks only if the broker
// sends more unacked messages than ingest.max_inflight says (counted in
// smartdeal_ingest_intake_blocked_total). After shutdown began, messages
// are left unacknowledged: the broker redelivers them to the next session.
func (s *Service) Handle(m Message) {
	s.intakeMu.RLock()
	defer s.intakeMu.RUnlock()
	if !s.intakeOpen {
		return
	}
	if m.Duplicate() {
		s.m.redelivered.Inc()
	}
	s.unacked.Add(1)
	select {
	case s.queue <- m:
	default:
		s.m.intakeBlocks.Inc()
		select {
		case s.queue <- m:
		case <-s.stopping: // shutdown began while the queue is full: leave it unacked
			s.unacked.Add(-1)
			s.abandoned.Add(1)
		}
	}
}

// Unacked returns how many received messages are not yet acknowledged.
func (s *Service) Unacked() int { return int(s.unacked.Load()) }

// Ready returns nil unless writes to the store are failing; the error says
// since when and why.
func (s *Service) Ready(context.Context) error {
	st := s.writeState.Load()
	if st == nil || st.err == nil {
		return nil
	}
	return fmt.Errorf("influxdb writes failing since %s: %w", st.since.UTC().Format(time.RFC3339), st.err)
}

// Run runs the pipeline until ctx ends, then shuts down: it stops intake,
// decodes what was queued, writes the last batches and acks them, within
// Config.ShutdownTimeout. It returns nil after a clean shutdown.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("ingest: Run called twice")
	}
	// work outlives ctx by up to ShutdownTimeout, so the final flush can
	// finish (and its acks go out) after the stop request.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var decoders sync.WaitGroup
	for range s.cfg.Decoders {
		decoders.Add(1)
		go func() {
			defer decoders.Done()
			s.decodeLoop(work)
		}()
	}
	batcherDone := make(chan struct{})
	go func() {
		defer close(batcherDone)
		s.batchLoop()
	}()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer close(s.acks)
		s.writeLoop(work)
	}()
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		s.ackLoop()
	}()
	go func() {
		decoders.Wait()
		close(s.items)
	}()
	s.log.Info("ingest pipeline running", "batch_size", s.cfg.BatchSize, "flush_interval", s.cfg.FlushInterval,
		"max_inflight", s.cfg.MaxInflight, "decoders", s.cfg.Decoders)

	<-ctx.Done()
	s.log.Info("ingest stopping: intake closed, flushing", "unacked", s.unacked.Load())
	timer := time.AfterFunc(s.cfg.ShutdownTimeout, cancelWork)
	defer timer.Stop()
	close(s.stopping) // releases a Handle blocked on a full queue
	s.intakeMu.Lock()
	s.intakeOpen = false
	close(s.queue)
	s.intakeMu.Unlock()
	<-batcherDone
	<-writerDone
	<-ackerDone
	if left := s.unacked.Load() + s.abandoned.Load(); left > 0 {
		s.log.Warn("ingest stopped with unacknowledged messages; the broker will redeliver them", "unacked", left)
		return fmt.Errorf("ingest shutdown: %d messages left unacknowledged after %s", left, s.cfg.ShutdownTimeout)
	}
	s.log.Info("ingest stopped cleanly")
	return nil
}

// decodeLoop turns queued messages into items, dead-lettering what cannot
// be decoded.
func (s *Service) decodeLoop(ctx context.Context) {
	var rs []smartdeal.Reading
	for m := range s.queue {
		var it item
		var reason string
		var err error
		rs, it, reason, err = s.decode(m, rs[:0])
		if err != nil {
			s.deadLetter(ctx, it, reason, err)
			continue
		}
		s.items <- it
	}
}

// batchLoop groups items into batches and hands them to the writer. A batch
// is sealed when it reaches BatchSize points, when its first item waited
// FlushInterval, or when 80 % of the broker's window is unacked and nothing
// more is queued (the broker would soon stop sending until we ack). Handing
// over blocks while the writer is busy with the previous batch: that is the
// back-pressure that stops intake while InfluxDB is down.
func (s *Service) batchLoop() {
	defer close(s.batches)
	var (
		batch  []item
		points int
		timer  = time.NewTimer(time.Hour)
		armed  bool
	)
	timer.Stop()
	flushAt := s.cfg.flushAt()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if armed {
			timer.Stop()
			armed = false
		}
		s.batches <- batch
		batch, points = make([]item, 0, len(batch)), 0
	}
	for {
		select {
		case it, ok := <-s.items:
			if !ok {
				flush()
				return
			}
			batch = append(batch, it)
			points += it.n
			if !armed {
				timer.Reset(s.cfg.FlushInterval)
				armed = true
			}
			switch {
			case points >= s.cfg.BatchSize, int64(len(batch)) >= flushAt:
				flush()
			case s.unacked.Load() >= flushAt && len(s.queue) == 0 && len(s.items) == 0:
				flush()
			}
		case <-timer.C:
			armed = false
			flush()
		}
	}
}

// writeLoop writes batches one at a time, retrying until they are written,
// then acks their messages.
func (s *Service) writeLoop(ctx context.Context) {
	var buf []byte
	for batch := range s.batches {
		start := time.Now()
		var n int
		var err error
		buf, n, err = s.writeItems(ctx, batch, buf)
		if err != nil {
			// Only a cancelled context (shutdown timeout) gets here: the
			// messages stay unacked and the broker redelivers them.
			s.log.Error("batch abandoned unacknowledged", "messages", len(batch), "err", err)
			s.unacked.Add(-int64(len(batch)))
			s.abandoned.Add(int64(len(batch)))
			continue
		}
		s.m.batchSeconds.Observe(time.Since(start).Seconds())
		s.m.batchPoints.Observe(float64(n))
	}
}

// ackLoop acknowledges the messages of written batches, in order.
func (s *Service) ackLoop() {
	// Counted per batch, not per message: WithLabelValues hashes its labels.
	formats := [...]string{FormatSenML, FormatLineProtocol, FormatUnknown}
	var written [len(formats)]prometheus.Counter
	for items := range s.acks {
		var counts [len(formats)]int
		for i := range items {
			items[i].msg.Ack()
			switch items[i].format {
			case FormatSenML:
				counts[0]++
			case FormatLineProtocol:
				counts[1]++
			default:
				counts[2]++
			}
		}
		s.unacked.Add(-int64(len(items)))
		for f, n := range counts {
			if n == 0 {
				continue
			}
			if written[f] == nil {
				written[f] = s.m.messages.WithLabelValues(formats[f], "written")
			}
			written[f].Add(float64(n))
		}
	}
}

// writeItems writes the points of items; when InfluxDB refuses the data
// (400) it bisects to find the guilty messages, dead-letters them and writes
// the rest. Written messages are acked. It returns an error only when ctx
// ends first.
func (s *Service) writeItems(ctx context.Context, items []item, buf []byte) ([]byte, int, error) {
	buf = buf[:0]
	for _, it := range items {
		buf = append(buf, it.points...)
	}
	err := s.writeRetry(ctx, buf)
	if err == nil {
		n := 0
		for _, it := range items {
			n += it.n
		}
		s.m.points.Add(float64(n))
		// paho sends each PUBACK through two unbuffered channels and a
		// write: hand the acks to their own goroutine so the next batch's
		// write overlaps them.
		s.acks <- items
		return buf, n, nil
	}
	if !isBadData(err) {
		return buf, 0, err
	}
	if len(items) == 1 {
		s.deadLetter(ctx, items[0], ReasonRejected, err)
		return buf, 0, nil
	}
	mid := len(items) / 2
	buf, n1, err := s.writeItems(ctx, items[:mid], buf)
	if err != nil {
		return buf, n1, err
	}
	buf, n2, err := s.writeItems(ctx, items[mid:], buf)
	return buf, n1 + n2, err
}

// writeRetry writes points until the store takes them, the store refuses
// the data (bad data, returned), or ctx ends. Backoff is exponential with
// full jitter between RetryInitial and RetryMax.
func (s *Service) writeRetry(ctx context.Context, points []byte) error {
	backoff := s.cfg.RetryInitial
	for attempt := 0; ; attempt++ {
		err := s.store.Write(ctx, points)
		if err == nil {
			if st := s.writeState.Load(); st != nil && st.err != nil {
				s.log.Info("influxdb writes recovered", "after", time.Since(st.since).Round(time.Millisecond))
				s.writeState.Store(&writeState{})
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("write: %w", ctx.Err())
		}
		class := errorClass(err)
		s.m.writeErrors.WithLabelValues(class).Inc()
		if class == "bad_data" {
			return err
		}
		if st := s.writeState.Load(); st == nil || st.err == nil {
			s.writeState.Store(&writeState{err: err, since: s.now()})
		} else {
			s.writeState.Store(&writeState{err: err, since: st.since})
		}
		if class == "config" {
			if s.limiter.allow("write-config") {
				s.log.Error("influxdb refuses writes: check influx.url, influx.token, influx.org and influx.bucket; retrying",
					"err", err, "suppressed", s.limiter.suppressed("write-config"))
			}
		} else if s.limiter.allow("write-retry") {
			s.log.Warn("influxdb write failed; retrying with backoff; intake paused",
				"err", err, "attempt", attempt+1, "suppressed", s.limiter.suppressed("write-retry"))
		}
		wait := time.Duration(rand.Int64N(int64(backoff)) + 1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("write: %w", ctx.Err())
		case <-time.After(wait):
		}
		s.m.writeRetries.Inc()
		backoff = min(backoff*2, s.cfg.RetryMax)
	}
}

func isBadData(err error) bool {
	var bd interface{ BadData() bool }
	return errors.As(err, &bd) && bd.BadData()
}

func errorClass(err error) string {
	if isBadData(err) {
		return "bad_data"
	}
	var cp interface{ ConfigProblem() bool }
	if errors.As(err, &cp) && cp.ConfigProblem() {
		return "config"
	}
	return "retryable"
}
