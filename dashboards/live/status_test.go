package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestDeviceStatus: status messages update registered devices only (moved
// from dashboards/api with Server.HandleStatus; it read the devices back
// through GET /api/v1/devices/{id}, it now reads the store).
func TestDeviceStatus(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := b.Store
			if err := st.CreateSite(ctx, &civic.Site{ID: "var-estuaire", Name: "Estuaire du Var", Location: civic.Point{Lat: 43.66, Lon: 7.2}}); err != nil {
				t.Fatal(err)
			}
			for _, d := range []*civic.Device{
				{ID: "drone-1", SiteID: "var-estuaire", Kind: civic.DeviceDrone, Model: "PX4 quad", Quantities: []civic.DeviceQuantity{{Quantity: "latitude", Unit: "lat"}}},
				{ID: "level-1", SiteID: "var-estuaire", Kind: civic.DeviceSensor, Model: "radar", Quantities: []civic.DeviceQuantity{{Quantity: "water_level", Unit: "m"}}},
			} {
				if err := st.CreateDevice(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			rec := &live.StatusRecorder{Store: st}
			at := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
			rec.HandleStatus(ctx, "smartdeal/v1/var-estuaire/level-1/status", []byte(`{"state":"online","time":"`+at.Format(time.RFC3339Nano)+`","version":"1.2"}`))
			rec.HandleStatus(ctx, "smartdeal/v1/var-estuaire/level-1/status", []byte(`{"state":"offline","time":"`+at.Add(-time.Hour).Format(time.RFC3339Nano)+`"}`)) // older: ignored
			rec.HandleStatus(ctx, "smartdeal/v1/other-site/drone-1/status", []byte(`{"state":"offline"}`))                                                            // wrong site
			rec.HandleStatus(ctx, "smartdeal/v1/var-estuaire/drone-1/status", []byte(`{"state":"exploded"}`))                                                         // malformed
			rec.HandleStatus(ctx, "smartdeal/v1/var-estuaire/drone-1/telemetry", []byte(`{"state":"online"}`))                                                        // not a status topic
			rec.HandleStatus(ctx, "smartdeal/v1/var-estuaire/ghost-1/status", []byte(`{"state":"online"}`))                                                           // unregistered
			d, err := st.Device(ctx, "level-1")
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != "online" || d.LastSeen == nil || !d.LastSeen.Equal(at) {
				t.Fatalf("level-1 %+v", d)
			}
			dr, err := st.Device(ctx, "drone-1")
			if err != nil {
				t.Fatal(err)
			}
			if dr.Status != "unknown" || dr.LastSeen != nil {
				t.Fatalf("drone-1 changed: %+v", dr)
			}
			// A message without a time (or a time far in the future) is
			// recorded at the recorder's clock.
			now := time.Now().UTC().Truncate(time.Millisecond)
			rec.Now = func() time.Time { return now }
			rec.HandleStatus(ctx, "smartdeal/v1/var-estuaire/drone-1/status", []byte(`{"state":"offline","time":"2999-01-01T00:00:00Z"}`))
			if dr, err = st.Device(ctx, "drone-1"); err != nil || dr.Status != "offline" || dr.LastSeen == nil || !dr.LastSeen.Equal(now) {
				t.Fatalf("drone-1 after a future-dated status: %+v %v", dr, err)
			}
		})
	}
}

// TestDeviceStatusFollowers: a gateway's status speaks for the devices it
// lists at its own site only; its last will (no time) sets them offline and
// keeps their last-seen time; telemetry marks a device online, throttled.
func TestDeviceStatusFollowers(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := b.Store
			for _, s := range []string{"roya", "tinee"} {
				if err := st.CreateSite(ctx, &civic.Site{ID: s, Name: s, Location: civic.Point{Lat: 44, Lon: 7.5}}); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range []*civic.Device{
				{ID: "roya-gw", SiteID: "roya", Kind: civic.DeviceGateway},
				{ID: "roya-air", SiteID: "roya", Kind: civic.DeviceSensor},
				{ID: "tinee-air", SiteID: "tinee", Kind: civic.DeviceSensor},
			} {
				if err := st.CreateDevice(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now().UTC().Truncate(time.Millisecond)
			rec := &live.StatusRecorder{Store: st, Now: func() time.Time { return now }, SeenEvery: time.Minute}
			at := now.Add(-time.Minute)
			rec.HandleStatus(ctx, "smartdeal/v1/roya/roya-gw/status", []byte(`{"state":"online","time":"`+at.Format(time.RFC3339Nano)+`",
				"devices":["roya-air","tinee-air","a/#","+",""]}`))
			get := func(id string) *civic.Device {
				d, err := st.Device(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			if d := get("roya-air"); d.Status != "online" || d.LastSeen == nil || !d.LastSeen.Equal(at) {
				t.Fatalf("roya-air %+v", d)
			}
			if d := get("tinee-air"); d.Status != "unknown" {
				t.Fatalf("another site's device followed the gateway: %+v", d)
			}
			// Telemetry: online now, at most once a minute.
			rec.HandleTelemetry(ctx, "smartdeal/v1/tinee/tinee-air/telemetry")
			if d := get("tinee-air"); d.Status != "online" || !d.LastSeen.Equal(now) {
				t.Fatalf("tinee-air after telemetry %+v", d)
			}
			rec.HandleTelemetry(ctx, "smartdeal/v1/roya/tinee-air/telemetry") // wrong site
			rec.HandleTelemetry(ctx, "smartdeal/v1/roya/+/telemetry")         // not a device
			if err := st.SetDeviceStatus(ctx, "tinee-air", "offline", now); err != nil {
				t.Fatal(err)
			}
			rec.HandleTelemetry(ctx, "smartdeal/v1/tinee/tinee-air/telemetry") // throttled
			if d := get("tinee-air"); d.Status != "offline" {
				t.Fatalf("telemetry not throttled %+v", d)
			}
			// The will: offline, last seen kept.
			rec.HandleStatus(ctx, "smartdeal/v1/roya/roya-gw/status", []byte(`{"state":"offline","devices":["roya-air"]}`))
			for _, id := range []string{"roya-gw", "roya-air"} {
				if d := get(id); d.Status != "offline" || d.LastSeen == nil || !d.LastSeen.Equal(at) {
					t.Fatalf("%s after the will %+v", id, d)
				}
			}
		})
	}
}

// FuzzHandleStatus: no payload or topic makes the recorder panic.
func FuzzHandleStatus(f *testing.F) {
	f.Add("smartdeal/v1/roya/roya-gw/status", []byte(`{"state":"online","devices":["roya-air"]}`))
	f.Add("smartdeal/v1/roya/roya-gw/status", []byte(`{"state":"offline","time":"2999-01-01T00:00:00Z"}`))
	rec := &live.StatusRecorder{Store: nopStore{}}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		rec.HandleStatus(t.Context(), topic, payload)
		rec.HandleTelemetry(t.Context(), topic)
	})
}

type nopStore struct{}

func (nopStore) Device(_ context.Context, id string) (*civic.Device, error) {
	return &civic.Device{ID: id, SiteID: "roya"}, nil
}
func (nopStore) SetDeviceStatus(context.Context, string, string, time.Time) error { return nil }
