package app

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// The site page's bounds.
const (
	// MaxSiteSeries bounds the series one site page charts (the newest
	// devices' first quantities beyond it are listed, not charted).
	MaxSiteSeries = 40
	// MaxSiteAlerts bounds the alerts a site page lists.
	MaxSiteAlerts = 50
)

// SiteView is a site (or one of its devices) for the risk managers: its
// devices with their status, every registered series over the span, its
// alerts (the offline ones are its status history) and its ATMO index of
// the day.
type SiteView struct {
	Site    *civic.Site
	Device  *civic.Device // the device page's device; nil for the site
	Devices []*civic.Device
	Series  []*series.SeriesData
	// Truncated says more series were registered than MaxSiteSeries.
	Truncated   bool
	Alerts      []*alerting.Alert
	Atmo        *atmo.Index
	Start, Stop time.Time
	// SeriesErr and AtmoErr say InfluxDB could not give them.
	SeriesErr, AtmoErr error
}

// Site gathers a site's page (device "" ) or a device's, over the span
// before now with at most points per series: three store calls (Sites,
// Devices of the site, its alerts) and two InfluxDB requests (one Read of
// every series, AtmoSites), whatever the number of devices and series.
func (d *Dashboards) Site(ctx context.Context, siteID, deviceID string, span time.Duration, points int) (*SiteView, error) {
	now := d.now().UTC()
	v := &SiteView{Start: now.Add(-span), Stop: now, Devices: []*civic.Device{}, Series: []*series.SeriesData{}, Alerts: []*alerting.Alert{}}
	var sites []*civic.Site
	g, cx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	g.Go(func() (err error) { sites, err = d.store.Sites(cx); return err })
	g.Go(func() (err error) { v.Devices, err = d.store.Devices(cx, siteID); return err })
	g.Go(func() (err error) {
		v.Alerts, err = d.alerts.Alerts(cx, alerting.AlertFilter{Site: siteID, Limit: MaxSiteAlerts})
		return err
	})
	var atmos map[string]*atmo.Index
	var ig errgroup.Group
	ig.Go(func() error { atmos, v.AtmoErr = d.meas.AtmoSites(ctx, now, now); return nil })
	err := g.Wait()
	if err != nil {
		_ = ig.Wait()
		return nil, fmt.Errorf("site page: %w", err)
	}
	for _, s := range sites {
		if s.ID == siteID {
			v.Site = s
		}
	}
	if v.Site == nil {
		_ = ig.Wait()
		return nil, civic.Errorf(civic.ENOTFOUND, "site not found")
	}
	var reads series.Reads
	for _, dev := range v.Devices {
		if deviceID != "" && dev.ID != deviceID {
			continue
		}
		if dev.ID == deviceID {
			v.Device = dev
		}
		for _, q := range dev.Quantities {
			if len(reads.Ranges) == MaxSiteSeries {
				v.Truncated = true
				break
			}
			reads.Ranges = append(reads.Ranges, series.RangeQuery{SeriesKey: series.SeriesKey{Site: siteID, Device: dev.ID, Quantity: q.Quantity},
				Start: v.Start, Stop: v.Stop, Agg: series.Mean, MaxPoints: points})
		}
	}
	if deviceID != "" && v.Device == nil {
		_ = ig.Wait()
		return nil, civic.Errorf(civic.ENOTFOUND, "device not found")
	}
	if len(reads.Ranges) > 0 {
		res, err := d.meas.Read(ctx, reads)
		switch {
		case err != nil:
			_ = ig.Wait()
			return nil, fmt.Errorf("site page: %w", err)
		case res.RangesErr != nil:
			v.SeriesErr = res.RangesErr
		default:
			v.Series = res.Ranges
		}
	}
	_ = ig.Wait()
	v.Atmo = atmos[siteID]
	if deviceID != "" {
		kept := v.Alerts[:0]
		for _, a := range v.Alerts {
			if a.Series.Device == deviceID {
				kept = append(kept, a)
			}
		}
		v.Alerts = kept
	}
	return v, nil
}
