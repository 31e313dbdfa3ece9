package live_test

import (
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
