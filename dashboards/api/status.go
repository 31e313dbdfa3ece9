package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cd06/smartdeal"
)

// DeviceStatus is the retained status message of a gateway or bridge.
type DeviceStatus struct {
	State string    `json:"state"` // online | offline
	Time  time.Time `json:"time"`
}

// HandleStatus records a device's status message (topic
// {prefix}/{site}/{device}/status) as its status and last-seen time, when the
// device is registered at that site. Unknown devices and malformed messages
// are ignored (logged at debug level).
func (s *Server) HandleStatus(ctx context.Context, topic string, payload []byte) {
	site, device, channel, err := s.cfg.Topics.Parse(topic)
	if err != nil || channel != smartdeal.ChannelStatus {
		return
	}
	var st DeviceStatus
	if err := json.Unmarshal(payload, &st); err != nil || (st.State != "online" && st.State != "offline") {
		s.log.Debug("status: malformed", "topic", topic)
		return
	}
	now := s.now()
	if st.Time.IsZero() || st.Time.After(now.Add(smartdeal.MaxFutureSkew)) || st.Time.Before(smartdeal.Epoch2000) {
		st.Time = now
	}
	d, err := s.store.Device(ctx, device)
	if err != nil || d.SiteID != site {
		s.log.Debug("status: unregistered device", "topic", topic)
		return
	}
	if err := s.store.SetDeviceStatus(ctx, device, st.State, st.Time); err != nil {
		s.log.Warn("status: not stored", "device", device, "err", err)
	}
}
