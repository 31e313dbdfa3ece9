package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// DeviceStatus is the retained status message of a gateway or bridge.
type DeviceStatus struct {
	State string    `json:"state"` // online | offline
	Time  time.Time `json:"time"`
	// Devices are the devices the gateway reads or relays (its sensors and
	// drones): they share its state, since they publish no status of their
	// own. Only those registered at the gateway's site are updated.
	Devices []string `json:"devices,omitempty"`
}

// MaxStatusDevices bounds the devices one status message may speak for.
const MaxStatusDevices = 256

// DefaultSeenEvery is how often telemetry refreshes a device's last-seen time
// in the store (at most one write per device per interval).
const DefaultSeenEvery = 30 * time.Second

// DeviceStore is what the status recorder needs of the store: the device (to
// check its site) and the recording of its status.
type DeviceStore interface {
	Device(ctx context.Context, id string) (*civic.Device, error)
	// SetDeviceStatus records status and last-seen time, ignoring a time
	// older than the one recorded.
	SetDeviceStatus(ctx context.Context, id, status string, seen time.Time) error
}

// StatusRecorder records devices' MQTT status messages in the store.
type StatusRecorder struct {
	Topics smartdeal.Topics
	Store  DeviceStore
	Log    *slog.Logger     // optional: slog.Default
	Now    func() time.Time // optional: time.Now
	// SeenEvery throttles the telemetry-driven updates (optional: DefaultSeenEvery).
	SeenEvery time.Duration

	mu   sync.Mutex
	seen map[string]time.Time // device → last telemetry-driven check
}

func (r *StatusRecorder) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *StatusRecorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// HandleStatus records a device's status message (topic
// {prefix}/{site}/{device}/status) as its status and last-seen time, when the
// device is registered at that site, and the same state for the devices the
// message lists (a gateway's sensors) registered at that site. Unknown
// devices and malformed messages are ignored (logged at debug level).
//
// A message without a time (a last will, written when the gateway
// connected) changes the state and keeps the last-seen time.
func (r *StatusRecorder) HandleStatus(ctx context.Context, topic string, payload []byte) {
	log := r.log()
	site, device, channel, err := r.Topics.Parse(topic)
	if err != nil || channel != smartdeal.ChannelStatus {
		return
	}
	var st DeviceStatus
	if err := json.Unmarshal(payload, &st); err != nil || (st.State != "online" && st.State != "offline") {
		log.Debug("status: malformed", "topic", topic)
		return
	}
	now := r.now()
	timed := !st.Time.IsZero() && !st.Time.After(now.Add(smartdeal.MaxFutureSkew)) && !st.Time.Before(smartdeal.Epoch2000)
	if !st.Time.IsZero() && !timed {
		st.Time = now // a wrong clock: the message is as recent as its arrival
		timed = true
	}
	registered, fresh := r.record(ctx, site, device, st, timed, false, now)
	if !registered {
		log.Debug("status: unregistered device", "topic", topic)
		return
	}
	if !fresh {
		return // an old message (a retained one replayed): its devices know better
	}
	if len(st.Devices) > MaxStatusDevices {
		st.Devices = st.Devices[:MaxStatusDevices]
	}
	for _, id := range st.Devices {
		if id != device && smartdeal.ValidID(id) {
			r.record(ctx, site, id, st, timed, true, now)
		}
	}
}

// record stores st for one device registered at site (registered false if it
// is not); fresh is false when the device's recorded last-seen time is newer
// than the message (the store then ignores it). A follower (a device listed by
// its gateway) takes the state whatever its last-seen time, which telemetry
// set by the API's clock, not the gateway's: it keeps the later time.
func (r *StatusRecorder) record(ctx context.Context, site, device string, st DeviceStatus, timed, follower bool, now time.Time) (registered, fresh bool) {
	d, err := r.Store.Device(ctx, device)
	if err != nil || d.SiteID != site {
		return false, false
	}
	at := st.Time
	if !timed {
		at = now
		if d.LastSeen != nil && st.State == "offline" {
			at = *d.LastSeen
		}
	}
	if d.LastSeen != nil && at.Before(*d.LastSeen) {
		if !follower {
			return true, false
		}
		at = *d.LastSeen
	}
	if err := r.Store.SetDeviceStatus(ctx, device, st.State, at); err != nil {
		r.log().Warn("status: not stored", "device", device, "err", err)
	}
	return true, true
}

// HandleTelemetry records that a device publishing telemetry (topic
// {prefix}/{site}/{device}/telemetry) is online, seen now: a device with MQTT
// credentials of its own publishes no status. It writes at most once per
// device per SeenEvery, registered devices at their site only.
func (r *StatusRecorder) HandleTelemetry(ctx context.Context, topic string) {
	site, device, channel, err := r.Topics.Parse(topic)
	if err != nil || channel != smartdeal.ChannelTelemetry {
		return
	}
	every := r.SeenEvery
	if every <= 0 {
		every = DefaultSeenEvery
	}
	now := r.now()
	r.mu.Lock()
	if r.seen == nil || len(r.seen) > 10000 { // bounded: forged device ids cost one check each per interval
		r.seen = map[string]time.Time{}
	}
	last, ok := r.seen[site+"/"+device]
	if ok && now.Sub(last) < every {
		r.mu.Unlock()
		return
	}
	r.seen[site+"/"+device] = now
	r.mu.Unlock()
	r.record(ctx, site, device, DeviceStatus{State: "online", Time: now}, true, false, now)
}
