package dronesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/bluenviron/gomavlib/v3/pkg/streamwriter"
)

// Vehicle flies a Sim over a MAVLink endpoint in real time (or faster).
type Vehicle struct {
	// Sim is the flight model.
	Sim *Sim
	// Endpoint where the messages go, e.g. gomavlib.EndpointUDPClient{Address: "127.0.0.1:14550"}.
	Endpoint gomavlib.EndpointConf
	// (optional) simulated seconds per real second; defaults to 1.
	TimeScale float64
	// (optional) period of the send loop; defaults to 20 ms.
	Tick time.Duration
	// (optional) when it returns true for a message, the vehicle skips it (a
	// lossy link for tests); it still counts in the sequence numbers.
	Drop func(message.Message) bool

	mu       sync.Mutex
	sent     atomic.Uint64
	requests atomic.Int64
}

// Sent returns the number of messages written so far.
func (v *Vehicle) Sent() uint64 { return v.sent.Load() }

// StreamRequests returns how many stream requests the vehicle obeyed.
func (v *Vehicle) StreamRequests() int { return int(v.requests.Load()) }

// State returns the current truth of the flight model.
func (v *Vehicle) State() State {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.Sim.State()
}

// Run flies until ctx ends (after its flight the vehicle stays landed, or
// flies again with Config.Repeat). It returns nil when ctx ends.
func (v *Vehicle) Run(ctx context.Context) error {
	if v.Sim == nil || v.Endpoint == nil {
		return errors.New("dronesim: vehicle needs a Sim and an Endpoint")
	}
	cfg := v.Sim.Config()
	ver := gomavlib.V2
	if cfg.Version == 1 {
		ver = gomavlib.V1
	}
	node := &gomavlib.Node{
		Endpoints:        []gomavlib.EndpointConf{v.Endpoint},
		Dialect:          ardupilotmega.Dialect,
		OutVersion:       ver,
		OutSystemID:      cfg.SystemID,
		OutComponentID:   1,
		OutKey:           cfg.Key,
		InKey:            cfg.Key,
		HeartbeatDisable: true,
	}
	if err := node.Initialize(); err != nil {
		return fmt.Errorf("dronesim %d: %w", cfg.SystemID, err)
	}
	defer node.Close()
	scale := v.TimeScale
	if scale <= 0 {
		scale = 1
	}
	tick := v.Tick
	if tick <= 0 {
		tick = 20 * time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	wallStart, simStart := time.Now(), v.Sim.State().Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-node.Events():
			if f, ok := ev.(*gomavlib.EventFrame); ok {
				v.handle(node, f)
			}
		case now := <-t.C:
			v.mu.Lock()
			v.Sim.Step(simStart.Add(time.Duration(float64(now.Sub(wallStart)) * scale)))
			msgs := v.Sim.Messages()
			v.mu.Unlock()
			for _, m := range msgs {
				if v.Drop != nil && v.Drop(m) {
					continue
				}
				if err := node.WriteMessageAll(m); err != nil {
					return fmt.Errorf("dronesim %d: %w", cfg.SystemID, err)
				}
				v.sent.Add(1)
			}
		}
	}
}

// handle answers the requests of a ground station as ArduPilot would.
func (v *Vehicle) handle(node *gomavlib.Node, f *gomavlib.EventFrame) {
	sysid := v.Sim.Config().SystemID
	switch m := f.Message().(type) {
	case *ardupilotmega.MessageCommandLong:
		if m.TargetSystem != sysid {
			return
		}
		result := common.MAV_RESULT_UNSUPPORTED
		if m.Command == common.MAV_CMD_SET_MESSAGE_INTERVAL {
			v.mu.Lock()
			ok := v.Sim.SetMessageInterval(uint32(m.Param1), m.Param2)
			v.mu.Unlock()
			result = common.MAV_RESULT_DENIED
			if ok {
				v.requests.Add(1)
				result = common.MAV_RESULT_ACCEPTED
			}
		}
		_ = node.WriteMessageTo(f.Channel, &ardupilotmega.MessageCommandAck{Command: m.Command, Result: result,
			TargetSystem: f.SystemID(), TargetComponent: f.ComponentID()})
	case *ardupilotmega.MessageRequestDataStream:
		if m.TargetSystem != sysid {
			return
		}
		v.mu.Lock()
		v.Sim.RequestDataStream(m.ReqStreamId, m.ReqMessageRate, m.StartStop != 0)
		v.mu.Unlock()
		v.requests.Add(1)
	}
}

// TlogEntry is one message the simulator logged, with its simulated time.
type TlogEntry struct {
	Time    time.Time
	Message message.Message
}

// WriteTlog flies the model from its current state for d of simulated time
// (or until it has landed, when d is 0) without any network, and writes every
// message to w as a .tlog: an 8-byte big-endian microsecond Unix timestamp,
// then the MAVLink frame (version, signing as configured). It returns the
// entries written, for comparison.
func WriteTlog(w io.Writer, sim *Sim, d time.Duration) ([]TlogEntry, error) {
	cfg := sim.Config()
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		return nil, err
	}
	fw := &frame.Writer{ByteWriter: w, DialectRW: rw}
	if err := fw.Initialize(); err != nil {
		return nil, err
	}
	ver := streamwriter.V2
	if cfg.Version == 1 {
		ver = streamwriter.V1
	}
	sw := &streamwriter.Writer{FrameWriter: fw, Version: ver, SystemID: cfg.SystemID, ComponentID: 1,
		Key: cfg.Key, SignatureLinkID: 1}
	if err := sw.Initialize(); err != nil {
		return nil, err
	}
	var out []TlogEntry
	end := sim.State().Time.Add(d)
	const step = 20 * time.Millisecond
	for t := sim.State().Time.Add(step); d == 0 || !t.After(end); t = t.Add(step) {
		sim.Step(t)
		for _, m := range sim.Messages() {
			ts := t.UnixMicro()
			var hdr [8]byte
			for i := range 8 {
				hdr[i] = byte(ts >> (56 - 8*i))
			}
			if _, err := w.Write(hdr[:]); err != nil {
				return out, err
			}
			if err := sw.Write(m); err != nil {
				return out, err
			}
			out = append(out, TlogEntry{Time: t.Truncate(time.Microsecond), Message: m})
		}
		if d == 0 && sim.State().Phase == PhaseDone {
			break
		}
	}
	return out, nil
}
