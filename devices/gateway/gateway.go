// Package gateway is the runtime of a SMART Deal edge gateway (a Raspberry Pi at
// a site): it reads each configured sensor at its interval, stamps the
// readings when taken, encodes one SenML pack per device per read, appends it
// to the durable spool, and lets the forwarder publish the spool to MQTT. It
// answers commands, publishes a retained status, and exposes Prometheus metrics.
//
// Use it from a program:
//
//	cfg, err := gateway.LoadConfig(path) // or build a Config in Go
//	g, err := gateway.New(cfg, log)
//	err = g.Run(ctx) // returns after a clean shutdown when ctx ends
//
// Several gateways (simulated sites) can run in one process: each has its own
// spool directory, MQTT client id and metrics registry (Registry).
//
// # Drones
//
// With a mavlink section (Config.MAVLink) the gateway also runs the MAVLink
// bridge (package firmware-bridge): drone readings and events go into the same
// spool as the sensors' and out through the same forwarder, and commands on a
// drone's cmd topic (set_mission, read_now, set_interval, report_config) go to
// the bridge. While the clock is not set, drone messages are dropped and
// counted: the bridge stamps them when received and they cannot be restamped.
//
// # Clock guard
//
// A Raspberry Pi has no real-time clock: it boots in 1970 (or at the time
// fake-hwclock saved) and learns the time from NTP once the network is up.
// While the wall clock reads earlier than the binary's build time (MinClock),
// readings are held in memory with their monotonic time; as soon as the clock
// is good they are stamped (good now − monotonic age) and spooled, in order,
// before any newer reading. Held readings are not durable: a power cut before
// the clock is set loses them (bounded by Config.MaxHeld, oldest dropped first).
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/drivers"
	"github.com/cd06/smartdeal/devices/forward"
	"github.com/cd06/smartdeal/devices/spool"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/senml"
)

// Opener opens one sensor; drivers.Open is the default.
type Opener func(ctx context.Context, cfg drivers.SensorConfig, log *slog.Logger) (devices.Sensor, error)

// Option changes a default of New.
type Option func(*options)

type options struct {
	now      func() time.Time
	minClock time.Time
	open     Opener
	version  string
}

// WithClock replaces the wall clock (tests of the clock guard).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMinClock sets the earliest wall time considered correct (default MinClock()).
func WithMinClock(t time.Time) Option { return func(o *options) { o.minClock = t } }

// WithOpener replaces drivers.Open (tests, custom drivers).
func WithOpener(f Opener) Option { return func(o *options) { o.open = f } }

// WithVersion sets the version reported in the status (default Version()).
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// Gateway is one running gateway.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	opts   options
	topics smartdeal.Topics
	device string
	start  time.Time // carries the monotonic clock
	reg    *prometheus.Registry
	m      *metrics

	sp atomic.Pointer[spool.Spool]
	fw atomic.Pointer[forward.Forwarder]

	running  atomic.Bool
	clockOK  atomic.Bool
	heldMu   sync.Mutex // serialises the slow path while the clock is not good
	cmds     chan command
	sensors  map[string]*sensorRunner
	ordered  []*sensorRunner
	mu       sync.Mutex // guards the fields below and the runners' counters
	held     []heldPack
	heldDrop uint64
	mission  string // gateway-wide mission (set_mission on the gateway's device)

	bridge       *bridge.Bridge // nil without a mavlink section
	bridgeUp     atomic.Bool    // while bridge.Run runs
	droneDropped atomic.Uint64  // drone messages dropped while the clock was not set
	droneWarned  atomic.Bool
}

// heldPack is one read taken while the clock was not good.
type heldPack struct {
	r    *sensorRunner
	ms   []devices.Measurement
	mono time.Duration // since g.start
}

// New validates cfg and prepares a gateway; Run starts it.
func New(cfg Config, log *slog.Logger, opts ...Option) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	o := options{now: time.Now, minClock: MinClock(), open: drivers.Open, version: Version()}
	for _, f := range opts {
		f(&o)
	}
	if cfg.MaxHeld == 0 {
		cfg.MaxHeld = DefaultMaxHeld
	}
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = devices.Duration(DefaultStatusInterval)
	}
	g := &Gateway{
		cfg:     cfg,
		log:     log.With("site", cfg.Site, "gateway", cfg.DeviceID()),
		opts:    o,
		topics:  smartdeal.Topics{Prefix: cfg.TopicPrefix},
		device:  cfg.DeviceID(),
		start:   time.Now(),
		reg:     prometheus.NewRegistry(),
		cmds:    make(chan command, 32),
		sensors: map[string]*sensorRunner{},
	}
	for _, sc := range cfg.Sensors {
		r := &sensorRunner{
			cfg:      sc,
			interval: sc.ReadInterval(),
			setIvl:   make(chan time.Duration, 1),
			readNow:  make(chan chan readResult, 4),
		}
		g.sensors[sc.Device] = r
		g.ordered = append(g.ordered, r)
	}
	if cfg.MAVLink != nil {
		b, err := bridge.New(cfg.bridgeConfig(), dronePublisher{g}, log.With("gateway", g.device))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, ErrConfig)
		}
		g.bridge = b
	}
	g.m = newMetrics(g)
	return g, nil
}

// Bridge returns the MAVLink bridge (its Stats and Vehicles), nil when the
// configuration has no mavlink section.
func (g *Gateway) Bridge() *bridge.Bridge { return g.bridge }

// dronePublisher is the bridge's Publisher: the gateway's spool.
type dronePublisher struct{ g *Gateway }

var _ bridge.Publisher = dronePublisher{}

// errSpoolClosed is returned to the bridge outside Run.
var errSpoolClosed = errors.New("gateway: spool not open")

func (p dronePublisher) Publish(_ context.Context, topic string, payload []byte) error {
	g := p.g
	sp := g.sp.Load()
	if sp == nil {
		return errSpoolClosed
	}
	if !g.clockOK.Load() && g.opts.now().Before(g.opts.minClock) {
		g.droneDropped.Add(1)
		if g.droneWarned.CompareAndSwap(false, true) {
			g.log.Warn("system clock is earlier than the build time: drone messages are dropped (and counted) until it is set", "topic", topic)
		}
		return nil
	}
	if err := sp.Append(topic, payload); err != nil {
		g.m.spoolErrs.Inc()
		return err
	}
	return nil
}

// Registry returns the gateway's Prometheus registry (Go, process and gateway metrics).
func (g *Gateway) Registry() *prometheus.Registry { return g.reg }

// Connected reports whether the gateway is connected to its broker.
func (g *Gateway) Connected() bool {
	fw := g.fw.Load()
	return fw != nil && fw.Stats().Connected
}

// Ready returns nil while the gateway runs with its spool open, for /readyz.
// A missing broker connection does not make it unready: spooling is its job.
func (g *Gateway) Ready(context.Context) error {
	if !g.running.Load() || g.sp.Load() == nil {
		return errors.New("not running")
	}
	if g.bridge != nil {
		select {
		case <-g.bridge.Ready():
		default:
			return errors.New("mavlink endpoints not open")
		}
	}
	return nil
}

// Stats is a snapshot for tests and the status message.
type Stats struct {
	Spool        spool.Stats
	Forward      forward.Stats
	SensorErrors map[string]uint64
	SensorReads  map[string]uint64
	Held         int
	HeldDropped  uint64
	ClockOK      bool
	// DronesDropped counts drone messages dropped while the clock was not set.
	DronesDropped uint64
}

// Stats returns the current counters.
func (g *Gateway) Stats() Stats {
	s := Stats{SensorErrors: map[string]uint64{}, SensorReads: map[string]uint64{}, ClockOK: g.clockOK.Load(),
		DronesDropped: g.droneDropped.Load()}
	if sp := g.sp.Load(); sp != nil {
		s.Spool = sp.Stats()
	}
	if fw := g.fw.Load(); fw != nil {
		s.Forward = fw.Stats()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for dev, r := range g.sensors {
		s.SensorErrors[dev] = r.errors
		s.SensorReads[dev] = r.reads
	}
	s.Held = len(g.held)
	s.HeldDropped = g.heldDrop
	return s
}

// Run opens the spool and the sensors, connects, and works until ctx ends.
// Shutdown: sensors and the MAVLink bridge stop (the bridge hands its queue to
// the spool), the offline status is published, in-flight publishes are
// acknowledged, the spool is closed. Errors are returned only for what
// prevents the gateway from working at all (spool cannot be opened, bad TLS
// files, a MAVLink endpoint that cannot be opened, which stops the gateway
// cleanly); a sensor that fails is counted and retried, never fatal.
func (g *Gateway) Run(ctx context.Context) error {
	if !g.running.CompareAndSwap(false, true) {
		return errors.New("gateway: Run called twice")
	}
	defer g.running.Store(false)
	if err := os.MkdirAll(g.cfg.Spool.Dir, 0o700); err != nil {
		return fmt.Errorf("spool.dir: %w", err)
	}
	so := g.cfg.spoolOptions()
	so.Logger = g.log.With("component", "spool")
	sp, err := spool.Open(filepath.Join(g.cfg.Spool.Dir, "spool.db"), so)
	if err != nil {
		return err
	}
	defer sp.Close()
	tlsCfg, err := g.cfg.tlsConfig()
	if err != nil {
		return err
	}
	fo := g.cfg.forwardOptions(tlsCfg)
	fo.Logger = g.log.With("component", "forward")
	// The will has no time: it is written now and delivered at a disconnection.
	fo.Will = &forward.Message{Topic: g.topics.Device(g.cfg.Site, g.device, smartdeal.ChannelStatus), Payload: g.willJSON(), Retained: true}
	fo.OnConnect = func(ctx context.Context) { g.publishStatus(ctx) }
	fw, err := forward.New(sp, fo)
	if err != nil {
		return err
	}
	fw.Subscribe(g.topics.Device(g.cfg.Site, "+", smartdeal.ChannelCmd), g.onCommand)
	g.sp.Store(sp)
	g.fw.Store(fw)
	if !g.opts.now().Before(g.opts.minClock) {
		g.clockOK.Store(true)
	} else {
		g.log.Warn("system clock is earlier than the build time: holding readings until it is set",
			"clock", g.opts.now().UTC().Format(time.RFC3339), "min_clock", g.opts.minClock.UTC().Format(time.RFC3339))
	}

	fwCtx, stopFw := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFw()
	fwDone := make(chan struct{})
	go func() {
		defer close(fwDone)
		_ = fw.Run(fwCtx)
	}()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var bridgeErr error
	if g.bridge != nil {
		g.bridgeUp.Store(true)
		wg.Go(func() {
			defer g.bridgeUp.Store(false)
			if err := g.bridge.Run(ctx); err != nil {
				bridgeErr = fmt.Errorf("mavlink: %w", err)
				g.log.Error("mavlink bridge stopped: stopping the gateway", "err", err)
				stop()
			}
		})
	}
	for _, r := range g.ordered {
		wg.Go(func() { g.runSensor(ctx, r) })
	}
	wg.Go(func() { g.commandLoop(ctx) })
	wg.Go(func() { g.statusLoop(ctx) })
	g.log.Info("gateway started", "sensors", len(g.ordered), "mavlink", g.bridge != nil, "broker", g.cfg.Broker.URL, "spool_depth", sp.Stats().Depth)

	<-ctx.Done()
	wg.Wait()
	if n := g.Stats().Held; n > 0 {
		g.log.Warn("shutting down with readings held for a bad clock: they are lost", "held", n)
	}
	offCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := fw.Publish(offCtx, forward.Message{Topic: fo.Will.Topic, Payload: g.statusJSON("offline", sp, fw), Retained: true}); err != nil {
		g.log.Debug("offline status not published", "err", err)
	}
	cancel()
	stopFw()
	<-fwDone
	g.log.Info("gateway stopped", "spool_depth", sp.Stats().Depth)
	return bridgeErr
}

// sensorRunner is the state of one sensor.
type sensorRunner struct {
	cfg     drivers.SensorConfig
	setIvl  chan time.Duration
	readNow chan chan readResult
	sensor  devices.Sensor // owned by the sensor goroutine

	// guarded by Gateway.mu
	interval  time.Duration
	reads     uint64
	errors    uint64
	failing   bool
	lastEvent time.Time
	mission   string
}

type readResult struct {
	n   int
	err error
}

func (g *Gateway) runSensor(ctx context.Context, r *sensorRunner) {
	defer func() {
		if r.sensor != nil {
			if err := r.sensor.Close(); err != nil {
				g.log.Warn("sensor close", "device", r.cfg.Device, "err", err)
			}
		}
	}()
	g.mu.Lock()
	ivl := r.interval
	g.mu.Unlock()
	t := time.NewTicker(ivl)
	defer t.Stop()
	g.readOnce(ctx, r)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.readOnce(ctx, r)
		case d := <-r.setIvl:
			t.Reset(d)
		case reply := <-r.readNow:
			n, err := g.readOnce(ctx, r)
			reply <- readResult{n: n, err: err}
		}
	}
}

// readOnce reads the sensor once and spools (or holds) the pack.
func (g *Gateway) readOnce(ctx context.Context, r *sensorRunner) (int, error) {
	if r.sensor == nil {
		s, err := g.opts.open(ctx, r.cfg, g.log.With("device", r.cfg.Device))
		if err != nil {
			g.sensorFailed(r, fmt.Errorf("open: %w", err))
			return 0, err
		}
		r.sensor = s
	}
	g.mu.Lock()
	ivl := r.interval
	g.mu.Unlock()
	taken := g.opts.now()
	mono := time.Since(g.start)
	rctx, cancel := context.WithTimeout(ctx, min(max(ivl, time.Second), 30*time.Second))
	ms, err := r.sensor.Read(rctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		g.sensorFailed(r, err)
		return 0, err
	}
	kept := ms[:0:0]
	for _, m := range ms {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) || !smartdeal.ValidQuantity(m.Quantity) || !smartdeal.ValidUnit(m.Unit) {
			g.m.invalid.WithLabelValues(r.cfg.Device).Inc()
			continue
		}
		kept = append(kept, m)
	}
	g.sensorOK(r)
	if len(kept) == 0 {
		return 0, nil
	}
	if err := g.record(r, kept, taken, mono); err != nil {
		return 0, err
	}
	return len(kept), nil
}

// record spools one pack, or holds it while the clock is not good.
func (g *Gateway) record(r *sensorRunner, ms []devices.Measurement, taken time.Time, mono time.Duration) error {
	if g.clockOK.Load() {
		return g.spoolPack(r, ms, taken)
	}
	g.heldMu.Lock()
	defer g.heldMu.Unlock()
	if g.clockOK.Load() {
		return g.spoolPack(r, ms, taken)
	}
	g.mu.Lock()
	if g.opts.now().Before(g.opts.minClock) {
		if len(g.held) >= g.cfg.MaxHeld {
			g.held = g.held[1:]
			g.heldDrop++
		}
		g.held = append(g.held, heldPack{r: r, ms: ms, mono: mono})
		g.mu.Unlock()
		return nil
	}
	held := g.held
	g.held = nil
	g.mu.Unlock()
	// The clock is good now: stamp what was held (now − age), oldest first,
	// then this read, which was taken with the good clock… or just before it
	// became good, in which case it is restamped the same way.
	now, nowMono := g.opts.now(), time.Since(g.start)
	var firstErr error
	for _, h := range held {
		if err := g.spoolPack(h.r, h.ms, now.Add(h.mono-nowMono)); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if taken.Before(g.opts.minClock) {
		taken = now.Add(mono - nowMono)
	}
	g.clockOK.Store(true)
	g.log.Info("system clock is set: held readings stamped and spooled", "held", len(held), "clock", now.UTC().Format(time.RFC3339))
	if err := g.spoolPack(r, ms, taken); err != nil {
		return err
	}
	return firstErr
}

// spoolPack encodes one SenML pack and appends it to the spool.
func (g *Gateway) spoolPack(r *sensorRunner, ms []devices.Measurement, t time.Time) error {
	g.mu.Lock()
	mission := r.mission
	if mission == "" {
		mission = g.mission
	}
	g.mu.Unlock()
	rs := make([]smartdeal.Reading, len(ms))
	for i, m := range ms {
		rs[i] = smartdeal.Reading{Site: g.cfg.Site, Device: r.cfg.Device, Quantity: m.Quantity, Unit: m.Unit,
			Time: t, Kind: smartdeal.KindNumber, Number: m.Value, Mission: mission}
	}
	b, err := senml.EncodeReadings(g.cfg.Site, r.cfg.Device, rs)
	if err != nil {
		g.sensorFailed(r, fmt.Errorf("encode: %w", err))
		return err
	}
	if err := g.sp.Load().Append(g.topics.Telemetry(g.cfg.Site, r.cfg.Device), b); err != nil {
		g.m.spoolErrs.Inc()
		g.log.Error("spool append failed: reading lost", "device", r.cfg.Device, "err", err)
		return err
	}
	g.m.readings.WithLabelValues(r.cfg.Device).Add(float64(len(ms)))
	g.m.packs.WithLabelValues(r.cfg.Device).Inc()
	return nil
}

// sensorErrorEvery is how often a failing sensor's error is reported again.
const sensorErrorEvery = 5 * time.Minute

func (g *Gateway) sensorFailed(r *sensorRunner, err error) {
	g.m.sensorErrs.WithLabelValues(r.cfg.Device).Inc()
	now := time.Now()
	g.mu.Lock()
	r.errors++
	n := r.errors
	report := !r.failing || now.Sub(r.lastEvent) >= sensorErrorEvery
	r.failing = true
	if report {
		r.lastEvent = now
	}
	g.mu.Unlock()
	if !report {
		return
	}
	g.log.Warn("sensor error", "device", r.cfg.Device, "driver", r.cfg.Driver, "err", err, "errors", n)
	g.event(r.cfg.Device, "sensor_error", "warning", err.Error(), map[string]any{"driver": r.cfg.Driver, "errors": n})
}

func (g *Gateway) sensorOK(r *sensorRunner) {
	g.mu.Lock()
	r.reads++
	was := r.failing
	r.failing = false
	n := r.errors
	g.mu.Unlock()
	if was {
		g.log.Info("sensor recovered", "device", r.cfg.Device)
		g.event(r.cfg.Device, "sensor_recovered", "info", "sensor reads again", map[string]any{"driver": r.cfg.Driver, "errors": n})
	}
}

// event spools an event on the device's event topic.
func (g *Gateway) event(device, typ, severity, message string, extra map[string]any) {
	m := map[string]any{"type": typ, "time": g.opts.now().UTC().Format(time.RFC3339Nano), "severity": severity, "message": message}
	for k, v := range extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	g.spoolJSON(device, m)
}

func (g *Gateway) spoolJSON(device string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		g.log.Error("event encoding", "err", err)
		return
	}
	sp := g.sp.Load()
	if sp == nil {
		return
	}
	if err := sp.Append(g.topics.Device(g.cfg.Site, device, smartdeal.ChannelEvent), b); err != nil {
		g.m.spoolErrs.Inc()
		g.log.Error("spool append of an event failed", "err", err)
	}
}

// statusJSON builds the retained status message.
func (g *Gateway) statusJSON(state string, sp *spool.Spool, fw *forward.Forwarder) []byte {
	st := map[string]any{
		"state":    state,
		"version":  g.opts.version,
		"uptime_s": int64(time.Since(g.start).Seconds()),
		"time":     g.opts.now().UTC().Format(time.RFC3339),
		"clock_ok": g.clockOK.Load(),
	}
	if sp != nil {
		s := sp.Stats()
		st["spool_depth"] = s.Pending // not yet acknowledged by the broker
		st["spool_stored"] = s.Depth
		st["spool_bytes"] = s.Bytes
		st["spool_dropped"] = s.Dropped
	}
	errs := map[string]uint64{}
	g.mu.Lock()
	for dev, r := range g.sensors {
		errs[dev] = r.errors
	}
	st["held"] = len(g.held)
	g.mu.Unlock()
	st["sensor_errors"] = errs
	if fw != nil {
		f := fw.Stats()
		st["connects"] = f.Connects
		st["backlog_draining"] = f.BacklogLeft
	}
	devs := g.sensorDevices()
	if g.bridge != nil {
		drones := g.droneStatus()
		st["drones"] = drones
		st["mavlink"] = g.bridge.Stats()
		for d := range drones {
			devs = append(devs, d)
		}
		sort.Strings(devs)
	}
	st["devices"] = devs
	b, _ := json.Marshal(st)
	return b
}

// willJSON is the last will: offline, for the gateway and the devices it
// reads, without a time (the API keeps their last-seen time).
func (g *Gateway) willJSON() []byte {
	devs := g.sensorDevices()
	if g.bridge != nil {
		devs = append(devs, g.droneDevices()...)
		sort.Strings(devs)
	}
	b, _ := json.Marshal(map[string]any{"state": "offline", "version": g.opts.version, "devices": devs})
	return b
}

func (g *Gateway) publishStatus(ctx context.Context) {
	fw, sp := g.fw.Load(), g.sp.Load()
	if fw == nil || sp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := fw.Publish(ctx, forward.Message{
		Topic:    g.topics.Device(g.cfg.Site, g.device, smartdeal.ChannelStatus),
		Payload:  g.statusJSON("online", sp, fw),
		Retained: true,
	})
	if err != nil && !errors.Is(err, forward.ErrNotConnected) {
		g.log.Debug("status not published", "err", err)
	}
}

func (g *Gateway) statusLoop(ctx context.Context) {
	t := time.NewTicker(time.Duration(g.cfg.StatusInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.publishStatus(ctx)
		}
	}
}

// droneState is a drone's entry in the status.
type droneState struct {
	SystemID         uint8    `json:"system_id"`
	Mode             string   `json:"mode,omitempty"`
	Armed            bool     `json:"armed"`
	LinkUp           bool     `json:"link_up"`
	Mission          string   `json:"mission,omitempty"`
	BatteryRemaining *float64 `json:"battery_remaining,omitempty"`
	LastSeen         string   `json:"last_seen,omitempty"`
}

// droneStatus returns the drones by device id: those seen by the running
// bridge, and the configured ones not seen yet (with their system id only).
func (g *Gateway) droneStatus() map[string]droneState {
	out := map[string]droneState{}
	for k, d := range g.cfg.MAVLink.Devices {
		var id int
		_, _ = fmt.Sscan(k, &id)
		out[d] = droneState{SystemID: uint8(id)}
	}
	if !g.bridgeUp.Load() {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	for _, v := range g.bridge.Vehicles(ctx) {
		s := droneState{SystemID: v.SystemID, Mode: v.Mode, Armed: v.Armed, LinkUp: v.LinkUp, Mission: v.Mission}
		if b := v.BatteryRemaining; b.Valid {
			s.BatteryRemaining = &b.V
		}
		if !v.LastSeen.IsZero() {
			s.LastSeen = v.LastSeen.UTC().Format(time.RFC3339)
		}
		out[v.Device] = s
	}
	return out
}

// droneDevices returns the drones' device ids, sorted.
func (g *Gateway) droneDevices() []string {
	out := []string{}
	if g.bridge == nil {
		return out
	}
	for d := range g.droneStatus() {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// sensorDevices returns the sensor device ids, sorted.
func (g *Gateway) sensorDevices() []string {
	out := make([]string, 0, len(g.sensors))
	for d := range g.sensors {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
