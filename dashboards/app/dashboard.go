package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// AlertLister lists alerts (alerting.Service).
type AlertLister interface {
	Alerts(ctx context.Context, f alerting.AlertFilter) ([]*alerting.Alert, error)
}

// DashboardMeasurements is what the dashboard reads from InfluxDB
// (measure.Client): every series' latest value in one listing, every
// site's ATMO index of the day in one listing and one Read.
type DashboardMeasurements interface {
	Measurements // the site page's series (one Read)
	Series(ctx context.Context, f series.Filter) ([]series.Latest, error)
	AtmoSites(ctx context.Context, day, now time.Time) (map[string]*atmo.Index, error)
}

// The dashboard's bounds.
const (
	// MaxDashboardAlerts bounds the open alerts read (the store's own cap).
	MaxDashboardAlerts = 1000
	// MaxRecentAlerts bounds the recent alerts that are over.
	MaxRecentAlerts = 50
	// RecentAlerts is how far back the recent alerts go.
	RecentAlerts = 24 * time.Hour
	// DashboardLookback is how far back a latest value may be; a site with
	// none within it has no data.
	DashboardLookback = 24 * time.Hour
)

// SiteState is a site at a glance, the worst first.
type SiteState string

// The states of a site.
const (
	StateRouge   SiteState = "rouge"
	StateOrange  SiteState = "orange"
	StateJaune   SiteState = "jaune"
	StateOffline SiteState = "hors_ligne"
	StateNoData  SiteState = "pas_de_donnees"
	StateNormal  SiteState = "normal"
)

// Rank orders the states, the worst first (0).
func (s SiteState) Rank() int {
	return slices.Index([]SiteState{StateRouge, StateOrange, StateJaune, StateOffline, StateNoData, StateNormal}, s)
}

// Dashboard is the risk managers' view of every site.
type Dashboard struct {
	Generated time.Time
	// Sites are every registered site, the worst state first, then by name.
	Sites []DashboardSite
	// Open are the active and acknowledged alerts, the most severe first,
	// then the newest.
	Open []*alerting.Alert
	// Recent are the alerts fired within RecentAlerts that are over
	// (cleared or closed), the newest first.
	Recent []*alerting.Alert
	// Missions are the active missions with their drones.
	Missions []DashboardMission
	// LatestErr and AtmoErr say InfluxDB could not give the latest values
	// or the ATMO indices: the rest still shows.
	LatestErr, AtmoErr error
}

// DashboardSite is one site at a glance.
type DashboardSite struct {
	Site  *civic.Site
	State SiteState
	// Alerts are the site's open alerts (as in Dashboard.Open).
	Alerts  []*alerting.Alert
	Devices []DashboardDevice
	// Offline counts the site's devices whose retained status says offline.
	Offline int
	// Atmo is the site's ATMO index of the day, when it measures pollutants.
	Atmo *atmo.Index
	// Newest is the time of the site's newest value (zero: none).
	Newest time.Time
}

// DashboardDevice is a device with its latest values (one per registered
// quantity with a value within DashboardLookback).
type DashboardDevice struct {
	Device *civic.Device
	Latest []*series.Latest
}

// DashboardMission is an active mission and its drone.
type DashboardMission struct {
	Mission *civic.Mission
	Site    *civic.Site   // nil when unknown
	Drone   *civic.Device // nil when unregistered
}

// Dashboards gathers the dashboard.
type Dashboards struct {
	store  FieldLister
	alerts AlertLister
	meas   DashboardMeasurements
	now    func() time.Time
}

// NewDashboards returns the dashboard's views; now (optional) defaults to
// time.Now.
func NewDashboards(store FieldLister, alerts AlertLister, meas DashboardMeasurements, now func() time.Time) *Dashboards {
	if now == nil {
		now = time.Now
	}
	return &Dashboards{store: store, alerts: alerts, meas: meas, now: now}
}

// View gathers the dashboard in five store calls (Sites, Devices,
// Missions, the open alerts, the recent ones), run at most Concurrency at
// a time, and three InfluxDB requests (one listing of the latest values;
// AtmoSites' listing and Read), whatever the number of sites, devices,
// series and alerts.
func (d *Dashboards) View(ctx context.Context) (*Dashboard, error) {
	now := d.now().UTC()
	v := &Dashboard{Generated: now, Sites: []DashboardSite{}, Open: []*alerting.Alert{}, Recent: []*alerting.Alert{}, Missions: []DashboardMission{}}
	var sites []*civic.Site
	var devices []*civic.Device
	var missions []*civic.Mission
	var open, recent []*alerting.Alert
	var latest []series.Latest
	var atmos map[string]*atmo.Index
	g, cx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	g.Go(func() (err error) { sites, err = d.store.Sites(cx); return err })
	g.Go(func() (err error) { devices, err = d.store.Devices(cx, ""); return err })
	g.Go(func() (err error) { missions, err = d.store.Missions(cx); return err })
	g.Go(func() (err error) {
		open, err = d.alerts.Alerts(cx, alerting.AlertFilter{Open: true, Limit: MaxDashboardAlerts})
		return err
	})
	g.Go(func() (err error) {
		recent, err = d.alerts.Alerts(cx, alerting.AlertFilter{Since: now.Add(-RecentAlerts), Limit: MaxDashboardAlerts})
		return err
	})
	// InfluxDB beside the store: a failure leaves the values out, not the page.
	var ig errgroup.Group
	ig.Go(func() error {
		latest, v.LatestErr = d.meas.Series(ctx, series.Filter{Lookback: DashboardLookback})
		return nil
	})
	ig.Go(func() error {
		atmos, v.AtmoErr = d.meas.AtmoSites(ctx, now, now)
		return nil
	})
	err := g.Wait()
	_ = ig.Wait()
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}

	v.Open = open
	slices.SortStableFunc(v.Open, func(a, b *alerting.Alert) int {
		return cmp.Or(b.Severity.Rank()-a.Severity.Rank(), b.FiredAt.Compare(a.FiredAt))
	})
	for _, a := range recent {
		if !a.Status.Open() && len(v.Recent) < MaxRecentAlerts {
			v.Recent = append(v.Recent, a)
		}
	}

	newest := make(map[series.SeriesKey]*series.Latest, len(latest))
	for i := range latest {
		l := &latest[i]
		k := series.SeriesKey{Site: l.Site, Device: l.Device, Quantity: l.Quantity}
		if old := newest[k]; old == nil || l.Time.After(old.Time) {
			newest[k] = l
		}
	}
	at := make(map[string]int, len(sites))
	for _, s := range sites {
		at[s.ID] = len(v.Sites)
		v.Sites = append(v.Sites, DashboardSite{Site: s, Alerts: []*alerting.Alert{}, Devices: []DashboardDevice{}, Atmo: atmos[s.ID]})
	}
	deviceByKey := make(map[[2]string]*civic.Device, len(devices))
	sensors := make([]int, len(sites)) // sensors per site
	for _, dev := range devices {
		deviceByKey[[2]string{dev.SiteID, dev.ID}] = dev
		i, ok := at[dev.SiteID]
		if !ok {
			continue
		}
		s := &v.Sites[i]
		dd := DashboardDevice{Device: dev, Latest: []*series.Latest{}}
		for _, q := range dev.Quantities {
			if l := newest[series.SeriesKey{Site: dev.SiteID, Device: dev.ID, Quantity: q.Quantity}]; l != nil {
				dd.Latest = append(dd.Latest, l)
				if l.Time.After(s.Newest) {
					s.Newest = l.Time
				}
			}
		}
		if dev.Status == "offline" {
			s.Offline++
		}
		if dev.Kind == civic.DeviceSensor {
			sensors[i]++
		}
		s.Devices = append(s.Devices, dd)
	}
	for _, a := range v.Open {
		if i, ok := at[a.Series.Site]; ok {
			v.Sites[i].Alerts = append(v.Sites[i].Alerts, a)
		}
	}
	for i := range v.Sites {
		s := &v.Sites[i]
		switch {
		case len(s.Alerts) > 0: // sorted: the first is the most severe
			s.State = SiteState(s.Alerts[0].Severity)
		case sensors[i] > 0 && s.Offline >= sensors[i]:
			s.State = StateOffline
		case s.Newest.IsZero():
			s.State = StateNoData
		default:
			s.State = StateNormal
		}
	}
	slices.SortStableFunc(v.Sites, func(a, b DashboardSite) int {
		return cmp.Or(a.State.Rank()-b.State.Rank(), cmp.Compare(a.Site.Name, b.Site.Name))
	})
	siteByID := make(map[string]*civic.Site, len(sites))
	for _, s := range sites {
		siteByID[s.ID] = s
	}
	for _, m := range missions {
		if m.Status == civic.MissionActive {
			v.Missions = append(v.Missions, DashboardMission{Mission: m, Site: siteByID[m.SiteID], Drone: deviceByKey[[2]string{m.SiteID, m.DroneID}]})
		}
	}
	return v, nil
}
