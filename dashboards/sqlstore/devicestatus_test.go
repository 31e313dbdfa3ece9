package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestDeviceStatusHistory, on SQLite and PostgreSQL: a status report that
// changes the state is a transition of the history, a repeated state (the
// telemetry's "online" every 30 s, the same report from two replicas at
// once) is not, an older report than the recorded one changes nothing, two
// transitions at the same time keep their order; newest first, at most
// MaxDeviceStatusHistory kept; an unknown device is an error.
func TestDeviceStatusHistory(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			s, ctx := b.Store, context.Background()
			if err := s.CreateSite(ctx, &civic.Site{ID: "roya", Name: "Roya", Location: civic.Point{Lat: 44, Lon: 7.5}}); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"gw", "other"} {
				if err := s.CreateDevice(ctx, &civic.Device{ID: id, SiteID: "roya", Kind: civic.DeviceGateway, Model: "rpi"}); err != nil {
					t.Fatal(err)
				}
			}
			if h, err := s.DeviceStatusHistory(ctx, "gw", 10); err != nil || len(h) != 0 {
				t.Fatalf("new device's history %+v %v", h, err)
			}
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
			set := func(id, st string, when time.Time) {
				t.Helper()
				if err := s.SetDeviceStatus(ctx, id, st, when); err != nil {
					t.Fatal(err)
				}
			}
			set("gw", "online", at(0))
			set("gw", "online", at(1)) // telemetry: no transition
			set("gw", "offline", at(1))
			set("gw", "online", at(0)) // older than recorded: ignored
			// The same report from two replicas at once: one transition.
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.SetDeviceStatus(ctx, "gw", "online", at(5)); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			set("other", "offline", at(3))
			h, err := s.DeviceStatusHistory(ctx, "gw", 0)
			want := []civic.DeviceStatusChange{{Status: "online", At: at(5)}, {Status: "offline", At: at(1)}, {Status: "online", At: at(0)}}
			if err != nil || len(h) != len(want) {
				t.Fatalf("history %+v %v, want %+v", h, err, want)
			}
			for i := range want {
				if h[i].Status != want[i].Status || !h[i].At.Equal(want[i].At) {
					t.Errorf("history[%d] %+v, want %+v", i, h[i], want[i])
				}
			}
			if d, _ := s.Device(ctx, "gw"); d.Status != "online" || !d.LastSeen.Equal(at(5)) {
				t.Errorf("device %+v", d)
			}
			if h, _ := s.DeviceStatusHistory(ctx, "gw", 1); len(h) != 1 || h[0].Status != "online" {
				t.Errorf("limit 1: %+v", h)
			}
			if h, _ := s.DeviceStatusHistory(ctx, "other", 0); len(h) != 1 || h[0].Status != "offline" {
				t.Errorf("other device's history %+v", h)
			}
			if err := s.SetDeviceStatus(ctx, "nope", "online", at(9)); civic.ErrorCode(err) != civic.ENOTFOUND {
				t.Errorf("unknown device: %v", err)
			}
			if h, _ := s.DeviceStatusHistory(ctx, "x' OR 1=1 --", 0); len(h) != 0 {
				t.Errorf("injected id matched %+v", h)
			}
			// Bounded: flapping far beyond the bound keeps the newest.
			n := sqlstore.MaxDeviceStatusHistory + 30
			for i := range n {
				st := "offline"
				if i%2 == 1 {
					st = "online"
				}
				set("gw", st, at(10+i))
			}
			h, err = s.DeviceStatusHistory(ctx, "gw", 0)
			if err != nil || len(h) != sqlstore.MaxDeviceStatusHistory || !h[0].At.Equal(at(10+n-1)) ||
				!h[len(h)-1].At.Equal(at(10+n-sqlstore.MaxDeviceStatusHistory)) {
				t.Fatalf("bounded history: %d rows %v, newest %v oldest %v", len(h), err, h[0].At, h[len(h)-1].At)
			}
		})
	}
}
