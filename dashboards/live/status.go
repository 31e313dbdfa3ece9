package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// DeviceStatus is the retained status message of a gateway or bridge.
type DeviceStatus struct {
	State string    `json:"state"` // online | offline
	Time  time.Time `json:"time"`
}

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
}

// HandleStatus records a device's status message (topic
// {prefix}/{site}/{device}/status) as its status and last-seen time, when the
// device is registered at that site. Unknown devices and malformed messages
// are ignored (logged at debug level).
func (r *StatusRecorder) HandleStatus(ctx context.Context, topic string, payload []byte) {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	site, device, channel, err := r.Topics.Parse(topic)
	if err != nil || channel != smartdeal.ChannelStatus {
		return
	}
	var st DeviceStatus
	if err := json.Unmarshal(payload, &st); err != nil || (st.State != "online" && st.State != "offline") {
		log.Debug("status: malformed", "topic", topic)
		return
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	if st.Time.IsZero() || st.Time.After(now.Add(smartdeal.MaxFutureSkew)) || st.Time.Before(smartdeal.Epoch2000) {
		st.Time = now
	}
	d, err := r.Store.Device(ctx, device)
	if err != nil || d.SiteID != site {
		log.Debug("status: unregistered device", "topic", topic)
		return
	}
	if err := r.Store.SetDeviceStatus(ctx, device, st.State, st.Time); err != nil {
		log.Warn("status: not stored", "device", device, "err", err)
	}
}
