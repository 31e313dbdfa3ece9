package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// NearbyRadius is the default radius of Nearby, in metres.
const NearbyRadius = 2000.0

// NearbyDevice is a sensor or gateway at a site within the radius, with
// the site's distance (devices carry no position of their own).
type NearbyDevice struct {
	civic.Device
	DistanceM float64 `json:"distance_m"`
	// SiteName is the site's name (for the pages).
	SiteName string `json:"-"`
}

// Nearby lists the sensors and gateways of the sites within radiusM metres
// of at, nearest first: two store calls (Sites, Devices) whatever the
// number of sites (GET /api/v1/ideas/{id}/nearby and the proposal page).
func (m *Maps) Nearby(ctx context.Context, at civic.Point, radiusM float64) ([]NearbyDevice, error) {
	sites, err := m.store.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("nearby: %w", err)
	}
	type near struct {
		site *civic.Site
		d    float64
	}
	within := map[string]near{}
	for _, st := range sites {
		if d := civic.DistanceMeters(at, st.Location); d <= radiusM {
			within[st.ID] = near{st, d}
		}
	}
	out := []NearbyDevice{}
	if len(within) == 0 {
		return out, nil
	}
	devs, err := m.store.Devices(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("nearby: %w", err)
	}
	for _, dv := range devs {
		n, ok := within[dv.SiteID]
		if ok && (dv.Kind == civic.DeviceSensor || dv.Kind == civic.DeviceGateway) {
			out = append(out, NearbyDevice{Device: *dv, DistanceM: n.d, SiteName: n.site.Name})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DistanceM < out[j].DistanceM })
	return out, nil
}
