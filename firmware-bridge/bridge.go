// Package bridge connects MAVLink vehicles (ArduPilot, PX4; MAVLink 1 and 2)
// to the SMART Deal platform. It runs a gomavlib node on the configured
// endpoints, checks every frame (checksum, per-vehicle MAVLink 2 signature),
// tracks each vehicle by system id, asks the autopilots for the streams it
// needs, decimates them to configured rates and hands SenML readings and JSON
// events to a Publisher (the gateway's durable spool). It answers the
// platform's commands (read_now, set_interval, report_config, set_mission) and
// can relay frames unchanged to a ground station.
//
// The Tracker (state, readings, events; no I/O) is shared with the flight-log
// import in firmware-bridge/tlog.
package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/senml"
)

// Publisher takes a message for the broker. In the gateway it is the durable
// spool: when Publish returns nil the message is safe.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Stats are the bridge's counters since it started.
type Stats struct {
	Frames          uint64 `json:"frames"`           // frames read from vehicle endpoints
	ParseErrors     uint64 `json:"parse_errors"`     // corrupted or truncated bytes (gomavlib parse errors)
	UnknownMessages uint64 `json:"unknown_messages"` // frames with a message id outside the dialect
	ChecksumErrors  uint64 `json:"checksum_errors"`  // frames with a wrong CRC
	DecodeErrors    uint64 `json:"decode_errors"`    // payloads that do not fit their message
	SigningRefused  uint64 `json:"signing_refused"`  // unsigned, wrongly signed or replayed frames of a keyed vehicle
	FramesLost      uint64 `json:"frames_lost"`      // missing frames from sequence gaps, all vehicles
	Readings        uint64 `json:"readings"`         // readings handed to the publisher
	Events          uint64 `json:"events"`           // events handed to the publisher
	Published       uint64 `json:"published"`        // messages the publisher accepted
	PublishErrors   uint64 `json:"publish_errors"`   // messages the publisher refused (dropped)
	PublishDropped  uint64 `json:"publish_dropped"`  // messages dropped because the queue was full
	StreamRequests  uint64 `json:"stream_requests"`  // stream requests sent
	CommandAcks     uint64 `json:"command_acks"`     // COMMAND_ACK received for our requests
	ToGCS           uint64 `json:"to_gcs"`           // frames relayed to the ground station
	FromGCS         uint64 `json:"from_gcs"`         // frames relayed from the ground station
	Commands        uint64 `json:"commands"`         // platform commands handled
}

type counters struct {
	frames, parseErrors, unknown, checksum, decode, signing, lost atomic.Uint64
	readings, events, published, pubErrors, pubDropped            atomic.Uint64
	streamRequests, acks, toGCS, fromGCS, commands                atomic.Uint64
}

type outMsg struct {
	topic   string
	payload []byte
}

type command struct {
	device  string
	payload []byte
}

// Bridge is a running MAVLink bridge. Create it with New, run it with Run.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	pub    Publisher
	topics smartdeal.Topics
	now    func() time.Time

	tracker *Tracker
	dec     *Decoder
	enc     Encoder
	keys    map[uint8]*frame.V2Key
	devices map[string]bool // configured device ids

	cmds    chan command
	queries chan chan []drone.State
	queue   chan outMsg
	c       counters

	// owned by the run loop
	node      *gomavlib.Node
	gcs       *gomavlib.Node
	channels  map[*gomavlib.Channel]uint8 // channel → last system id seen on it (0: none)
	vehicleCh map[uint8]*gomavlib.Channel
	out       Output
	lastWarn  time.Time
	requested map[uint8]time.Time // last stream request per vehicle

	mu      sync.Mutex
	running bool
	ready   chan struct{}
}

// New checks cfg and returns a Bridge publishing through pub. logger may be nil.
func New(cfg Config, pub Publisher, logger *slog.Logger) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pub == nil {
		return nil, errors.New("bridge: nil publisher")
	}
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Bridge{
		cfg:    cfg,
		log:    logger.With("component", "mavbridge", "site", cfg.Site),
		pub:    pub,
		topics: smartdeal.Topics{Prefix: cfg.TopicPrefix},
		now:    time.Now,
		keys:   cfg.keys(),
		tracker: NewTracker(TrackerConfig{
			Site: cfg.Site, Devices: cfg.devices(), Rates: cfg.rates(), LinkTimeout: cfg.LinkTimeout,
			LowBattery: cfg.LowBattery, CriticalBattery: cfg.CriticalBattery, Ignore: []uint8{cfg.SystemID},
		}),
		devices: make(map[string]bool),
		cmds:    make(chan command, 64),
		queries: make(chan chan []drone.State),
		queue:   make(chan outMsg, cfg.QueueSize),
		ready:   make(chan struct{}),
	}
	for _, d := range cfg.Devices {
		b.devices[d] = true
	}
	b.dec = NewDecoder(b.keys)
	b.enc = Encoder{SystemID: cfg.SystemID, ComponentID: cfg.ComponentID, LinkID: 1}
	return b, nil
}

// Ready is closed once Run has opened the endpoints.
func (b *Bridge) Ready() <-chan struct{} { return b.ready }

// Stats returns a snapshot of the counters.
func (b *Bridge) Stats() Stats {
	c := &b.c
	return Stats{
		Frames: c.frames.Load(), ParseErrors: c.parseErrors.Load(), UnknownMessages: c.unknown.Load(),
		ChecksumErrors: c.checksum.Load(), DecodeErrors: c.decode.Load(), SigningRefused: c.signing.Load(),
		FramesLost: c.lost.Load(), Readings: c.readings.Load(), Events: c.events.Load(),
		Published: c.published.Load(), PublishErrors: c.pubErrors.Load(), PublishDropped: c.pubDropped.Load(),
		StreamRequests: c.streamRequests.Load(), CommandAcks: c.acks.Load(), ToGCS: c.toGCS.Load(),
		FromGCS: c.fromGCS.Load(), Commands: c.commands.Load(),
	}
}

// Vehicles returns the state of every vehicle seen, asking the run loop; it
// returns nil when the bridge is not running or ctx ends first.
func (b *Bridge) Vehicles(ctx context.Context) []drone.State {
	reply := make(chan []drone.State, 1)
	select {
	case b.queries <- reply:
	case <-ctx.Done():
		return nil
	}
	select {
	case v := <-reply:
		return v
	case <-ctx.Done():
		return nil
	}
}

// Owns reports whether device is one of the bridge's drones: configured in
// Devices, or named "drone-<sysid>" for a system id without a configured name.
func (b *Bridge) Owns(device string) bool {
	if b.devices[device] {
		return true
	}
	var n int
	if _, err := fmt.Sscanf(device, "drone-%d", &n); err == nil && n >= 1 && n <= 255 &&
		drone.DeviceID(uint8(n)) == device {
		_, named := b.cfg.devices()[uint8(n)]
		return !named
	}
	return false
}

// ErrNotOurs means a command topic names a device the bridge does not own.
var ErrNotOurs = errors.New("not a device of this bridge")

// HandleCommand takes a message from a cmd topic ({prefix}/{site}/{device}/cmd)
// and hands it to the run loop through a bounded queue, waiting at most until
// ctx ends (an MQTT callback should pass a short timeout). The answer is
// published as a cmd_result event; commands for devices the bridge does not
// own return ErrNotOurs.
func (b *Bridge) HandleCommand(ctx context.Context, topic string, payload []byte) error {
	site, device, channel, err := b.topics.Parse(topic)
	if err != nil {
		return fmt.Errorf("command: %w", err)
	}
	if site != b.cfg.Site || channel != smartdeal.ChannelCmd || !b.Owns(device) {
		return fmt.Errorf("command on %s: %w", topic, ErrNotOurs)
	}
	select {
	case b.cmds <- command{device: device, payload: append([]byte(nil), payload...)}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("command on %s: %w", topic, ctx.Err())
	}
}

// Run opens the endpoints and bridges until ctx ends. It returns after every
// goroutine it started has exited and the queue has been handed to the
// publisher (as far as the publisher accepts within 5 s).
func (b *Bridge) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return errors.New("bridge: already running")
	}
	b.running = true
	b.mu.Unlock()

	var eps []gomavlib.EndpointConf
	for _, s := range b.cfg.Endpoints {
		e, _ := ParseEndpoint(s) // validated in New
		eps = append(eps, e.Conf())
	}
	b.node = &gomavlib.Node{
		Endpoints:        eps,
		OutVersion:       gomavlib.V2,
		OutSystemID:      b.cfg.SystemID,
		OutComponentID:   b.cfg.ComponentID,
		HeartbeatDisable: true, // our own, signed per vehicle
		ReadTimeout:      30 * time.Second,
		IdleTimeout:      2 * time.Minute,
	}
	if err := b.node.Initialize(); err != nil {
		return fmt.Errorf("mavlink endpoints %v: %w", b.cfg.Endpoints, err)
	}
	defer b.node.Close()
	if len(b.cfg.GCSEndpoints) > 0 {
		var geps []gomavlib.EndpointConf
		for _, s := range b.cfg.GCSEndpoints {
			e, _ := ParseEndpoint(s)
			geps = append(geps, e.Conf())
		}
		b.gcs = &gomavlib.Node{Endpoints: geps, OutVersion: gomavlib.V2, OutSystemID: b.cfg.SystemID,
			OutComponentID: b.cfg.ComponentID, HeartbeatDisable: true}
		if err := b.gcs.Initialize(); err != nil {
			return fmt.Errorf("gcs endpoints %v: %w", b.cfg.GCSEndpoints, err)
		}
	}
	close(b.ready)
	b.log.Info("mavlink bridge started", "endpoints", b.cfg.Endpoints, "gcs", b.cfg.GCSEndpoints,
		"signed_vehicles", len(b.keys))

	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.publishLoop(pubCtx)
	}()
	gcsDone := make(chan struct{})
	if b.gcs != nil {
		go func() {
			defer close(gcsDone)
			b.gcsLoop()
		}()
	} else {
		close(gcsDone)
	}

	b.loop(ctx)

	if b.gcs != nil {
		b.gcs.Close() // closes its event channel: gcsLoop ends
	}
	<-gcsDone
	close(b.queue)
	// let the publisher drain, but not forever
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		stopPub()
		<-drained
	}
	stopPub()
	b.log.Info("mavlink bridge stopped", "stats", b.Stats())
	return nil
}

func (b *Bridge) loop(ctx context.Context) {
	b.channels = make(map[*gomavlib.Channel]uint8)
	b.vehicleCh = make(map[uint8]*gomavlib.Channel)
	b.requested = make(map[uint8]time.Time)
	hb := time.NewTicker(b.cfg.HeartbeatPeriod)
	defer hb.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	events := b.node.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			b.handleEvent(ev)
		case <-tick.C:
			now := b.now()
			b.out.Reset()
			b.tracker.Tick(now, &b.out)
			b.flush()
			if b.tracker.rate(GroupPosition) >= 0 {
				for _, id := range b.tracker.Starved(now, b.cfg.StreamRetry) {
					if now.Sub(b.requested[id]) > b.cfg.StreamRetry {
						b.log.Info("no position stream, asking again", "system_id", id)
						b.requestStreams(id)
					}
				}
			}
		case <-hb.C:
			b.heartbeat()
		case c := <-b.cmds:
			b.command(c)
		case reply := <-b.queries:
			reply <- b.tracker.Vehicles()
		}
	}
}

func (b *Bridge) handleEvent(ev gomavlib.Event) {
	switch e := ev.(type) {
	case *gomavlib.EventChannelOpen:
		b.channels[e.Channel] = 0
		b.log.Debug("mavlink channel open", "channel", e.Channel.String())
	case *gomavlib.EventChannelClose:
		delete(b.channels, e.Channel)
		for id, ch := range b.vehicleCh {
			if ch == e.Channel {
				delete(b.vehicleCh, id)
			}
		}
		b.log.Debug("mavlink channel closed", "channel", e.Channel.String(), "error", e.Error)
	case *gomavlib.EventParseError:
		b.c.parseErrors.Add(1)
		b.warn("mavlink parse error", "channel", e.Channel.String(), "error", e.Error)
	case *gomavlib.EventFrame:
		b.frame(e)
	}
}

// warn logs at most once per 10 s: bad frames come in bursts.
func (b *Bridge) warn(msg string, args ...any) {
	if now := time.Now(); now.Sub(b.lastWarn) > 10*time.Second {
		b.lastWarn = now
		b.log.Warn(msg+" (further ones for 10 s only counted)", args...)
	}
}

func (b *Bridge) frame(e *gomavlib.EventFrame) {
	b.c.frames.Add(1)
	fr := e.Frame
	sysid, compid := fr.GetSystemID(), fr.GetComponentID()
	if sysid == b.cfg.SystemID {
		return // our own frames echoed by a relay
	}
	if err := b.dec.Verify(fr); err != nil {
		b.c.signing.Add(1)
		b.warn("mavlink frame refused", "system_id", sysid, "error", err)
		return
	}
	msg, err := b.dec.Decode(fr)
	switch {
	case errors.Is(err, ErrUnknownMessage):
		b.c.unknown.Add(1)
	case errors.Is(err, ErrChecksum):
		b.c.checksum.Add(1)
		b.warn("mavlink frame dropped", "system_id", sysid, "error", err)
		return
	case err != nil:
		b.c.decode.Add(1)
		b.warn("mavlink frame dropped", "system_id", sysid, "error", err)
		return
	}
	if b.gcs != nil {
		if err := b.gcs.WriteFrameAll(fr); err == nil {
			b.c.toGCS.Add(1)
		}
	}
	now := b.now()
	b.out.Reset()
	if !b.tracker.Seen(now, fr, &b.out) {
		return
	}
	if msg != nil {
		if ack, ok := msg.(*ardupilotmega.MessageCommandAck); ok {
			if ack.Command == common.MAV_CMD_SET_MESSAGE_INTERVAL {
				b.c.acks.Add(1)
			}
		}
		b.tracker.Handle(now, sysid, compid, msg, &b.out)
		if rs, ok := msg.(*ardupilotmega.MessageRadioStatus); ok && !b.tracker.IsVehicle(sysid) {
			if served, ok := b.soleVehicleOn(e.Channel); ok {
				b.tracker.RadioStatus(now, served, rs, &b.out)
			}
		}
	}
	// only a vehicle names its channel: a radio or a GCS on the same link
	// must not decide how the bridge signs its heartbeats there
	if b.tracker.IsVehicle(sysid) {
		b.channels[e.Channel] = sysid
		b.vehicleCh[sysid] = e.Channel
	}
	b.flush()
}

// soleVehicleOn returns the only vehicle whose frames come through ch: the
// vehicle a telemetry radio on that channel serves. With none or several
// (a multipoint radio network) the radio's status is nobody's.
func (b *Bridge) soleVehicleOn(ch *gomavlib.Channel) (uint8, bool) {
	var id uint8
	n := 0
	for sysid, c := range b.vehicleCh {
		if c == ch {
			id, n = sysid, n+1
		}
	}
	return id, n == 1
}

// flush publishes b.out: one SenML pack per device, one message per event;
// vehicle_seen and link_regained also trigger stream requests.
func (b *Bridge) flush() {
	var lost uint64
	for _, v := range b.tracker.vehicles {
		lost += v.FramesLost
	}
	b.c.lost.Store(lost)
	if len(b.out.Readings) > 0 {
		rs := b.out.Readings
		for len(rs) > 0 {
			dev := rs[0].Device
			n := 1
			for n < len(rs) && rs[n].Device == dev {
				n++
			}
			payload, err := senml.EncodeReadings(b.cfg.Site, dev, rs[:n])
			if err != nil {
				b.c.pubErrors.Add(1)
				b.warn("encode readings", "device", dev, "error", err)
			} else {
				b.c.readings.Add(uint64(n))
				b.enqueue(b.topics.Telemetry(b.cfg.Site, dev), payload)
			}
			rs = rs[n:]
		}
	}
	for _, ev := range b.out.Events {
		b.publishEvent(ev.Device, ev)
		if ev.Type == drone.EventVehicleSeen || ev.Type == drone.EventLinkRegained {
			b.requestStreams(ev.SystemID)
		}
	}
}

func (b *Bridge) publishEvent(device string, ev any) {
	payload, err := json.Marshal(ev)
	if err != nil {
		b.c.pubErrors.Add(1)
		return
	}
	b.c.events.Add(1)
	b.enqueue(b.topics.Device(b.cfg.Site, device, smartdeal.ChannelEvent), payload)
}

func (b *Bridge) enqueue(topic string, payload []byte) {
	select {
	case b.queue <- outMsg{topic, payload}:
	default:
		b.c.pubDropped.Add(1)
		b.warn("publish queue full, message dropped", "topic", topic)
	}
}

func (b *Bridge) publishLoop(ctx context.Context) {
	for m := range b.queue {
		if err := b.pub.Publish(ctx, m.topic, m.payload); err != nil {
			b.c.pubErrors.Add(1)
			b.log.Error("publish", "topic", m.topic, "error", err)
			continue
		}
		b.c.published.Add(1)
	}
}

// gcsLoop relays every frame of the ground station to the vehicles.
func (b *Bridge) gcsLoop() {
	for ev := range b.gcs.Events() {
		if e, ok := ev.(*gomavlib.EventFrame); ok {
			if err := b.node.WriteFrameAll(e.Frame); err == nil {
				b.c.fromGCS.Add(1)
			}
		}
	}
}

// send writes msg to the channel of a vehicle, in its MAVLink version and
// signed with its key.
func (b *Bridge) send(sysid uint8, msg message.Message) {
	ch := b.vehicleCh[sysid]
	if ch == nil {
		return
	}
	v2 := true
	if st, ok := b.tracker.Vehicle(sysid); ok && st.MAVLinkVersion == 1 {
		v2 = false
	}
	fr, err := b.enc.Frame(msg, v2, b.keys[sysid], b.now())
	if err != nil {
		b.log.Error("encode", "error", err)
		return
	}
	if err := b.node.WriteFrameTo(ch, fr); err != nil {
		b.log.Error("write frame", "system_id", sysid, "error", err)
	}
}

// heartbeat announces the bridge as a ground station on every channel, signed
// for the vehicle seen there; ArduPilot keeps streaming to a GCS that beats.
func (b *Bridge) heartbeat() {
	hb := &ardupilotmega.MessageHeartbeat{Type: ardupilotmega.MAV_TYPE(drone.TypeGCS),
		Autopilot: ardupilotmega.MAV_AUTOPILOT(drone.AutopilotInvalid), MavlinkVersion: 3,
		SystemStatus: ardupilotmega.MAV_STATE_ACTIVE}
	for ch, sysid := range b.channels {
		v2 := true
		if st, ok := b.tracker.Vehicle(sysid); ok && st.MAVLinkVersion == 1 {
			v2 = false
		}
		fr, err := b.enc.Frame(hb, v2, b.keys[sysid], b.now())
		if err != nil {
			continue
		}
		_ = b.node.WriteFrameTo(ch, fr)
	}
}

// streamMessages are the messages the bridge asks for, with their group.
var streamMessages = []struct {
	id    uint32
	group string
}{
	{33, GroupPosition}, // GLOBAL_POSITION_INT
	{30, GroupAttitude}, // ATTITUDE
	{24, GroupGPS},      // GPS_RAW_INT
	{1, GroupBattery},   // SYS_STATUS
	{147, GroupBattery}, // BATTERY_STATUS
	{42, GroupMission},  // MISSION_CURRENT
}

// streamInterval is the interval requested for a group: its publication rate
// clamped to [100 ms, 5 s]; 0 for a disabled group.
func (b *Bridge) streamInterval(group string) time.Duration {
	r := b.tracker.rate(group)
	switch {
	case r < 0:
		return 0
	case r < 100*time.Millisecond:
		return 100 * time.Millisecond
	case r > 5*time.Second:
		return 5 * time.Second
	}
	return r
}

// requestStreams asks a vehicle for the messages the bridge publishes:
// SET_MESSAGE_INTERVAL per message (acknowledged), and for ArduPilot also the
// older REQUEST_DATA_STREAM, which firmware before 4.0 needs.
func (b *Bridge) requestStreams(sysid uint8) {
	if b.cfg.NoStreamRequest {
		return
	}
	st, ok := b.tracker.Vehicle(sysid)
	if !ok {
		return
	}
	b.requested[sysid] = b.now()
	for _, m := range streamMessages {
		iv := b.streamInterval(m.group)
		if iv == 0 {
			continue
		}
		b.send(sysid, &ardupilotmega.MessageCommandLong{TargetSystem: sysid, TargetComponent: 1,
			Command: common.MAV_CMD_SET_MESSAGE_INTERVAL, Param1: float32(m.id), Param2: float32(iv.Microseconds())})
		b.c.streamRequests.Add(1)
	}
	if st.Autopilot == "ardupilot" {
		hz := func(group string) uint16 {
			iv := b.streamInterval(group)
			if iv == 0 {
				return 0
			}
			return uint16((time.Second + iv - 1) / iv)
		}
		for _, s := range []struct {
			id ardupilotmega.MAV_DATA_STREAM
			hz uint16
		}{
			{ardupilotmega.MAV_DATA_STREAM_POSITION, hz(GroupPosition)},
			{ardupilotmega.MAV_DATA_STREAM_EXTRA1, hz(GroupAttitude)},
			{ardupilotmega.MAV_DATA_STREAM_EXTENDED_STATUS, max(hz(GroupGPS), hz(GroupBattery), hz(GroupMission))},
		} {
			start := uint8(1)
			if s.hz == 0 {
				start = 0
			}
			b.send(sysid, &ardupilotmega.MessageRequestDataStream{TargetSystem: sysid, TargetComponent: 1,
				ReqStreamId: s.id, ReqMessageRate: s.hz, StartStop: start})
			b.c.streamRequests.Add(1)
		}
	}
}
