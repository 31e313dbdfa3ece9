package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/internal/testenv"
)

// countingAlerts counts the dashboard's alert listings.
type countingAlerts struct {
	app.AlertLister
	mu sync.Mutex
	n  int
}

func (c *countingAlerts) Alerts(ctx context.Context, f alerting.AlertFilter) ([]*alerting.Alert, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.AlertLister.Alerts(ctx, f)
}

// countingDashMeasurements counts the dashboard's InfluxDB calls: Series
// listings and AtmoSites (one listing and one Read each, by construction:
// measure.TestAtmo).
type countingDashMeasurements struct {
	app.DashboardMeasurements
	mu            sync.Mutex
	series, atmos int
}

func (c *countingDashMeasurements) Series(ctx context.Context, f measure.Filter) ([]measure.Latest, error) {
	c.mu.Lock()
	c.series++
	c.mu.Unlock()
	return c.DashboardMeasurements.Series(ctx, f)
}

func (c *countingDashMeasurements) AtmoSites(ctx context.Context, day, now time.Time) (map[string]*atmo.Index, error) {
	c.mu.Lock()
	c.atmos++
	c.mu.Unlock()
	return c.DashboardMeasurements.AtmoSites(ctx, day, now)
}

type dashWorld struct {
	*mapWorld
	svc    *alerting.Service
	alerts *countingAlerts
	dmeas  *countingDashMeasurements
	dash   *app.Dashboards
}

func newDashWorld(t testing.TB, meas *measure.Client, in *testenv.Influx, db string) *dashWorld {
	w := &dashWorld{mapWorld: newMapWorld(t, meas, in, db)}
	var err error
	w.svc, err = alerting.New(alerting.Config{}, alerting.Deps{Store: w.st})
	if err != nil {
		t.Fatal(err)
	}
	w.alerts = &countingAlerts{AlertLister: w.svc}
	w.dmeas = &countingDashMeasurements{DashboardMeasurements: meas}
	w.dash = app.NewDashboards(w.mstore, w.alerts, w.dmeas, func() time.Time { return w.now })
	return w
}

// alert fires a level of a new rule on site's first sensor.
func (w *dashWorld) alert(site string, sev alerting.Severity) {
	w.t.Helper()
	ctx := context.Background()
	r := &alerting.Rule{Name: "Seuil " + string(sev) + " " + site, Enabled: true, Site: site, Quantity: "no2", Kind: alerting.Above,
		Levels: []alerting.Level{{Severity: sev, Threshold: 100}}}
	if err := w.svc.CreateRule(ctx, "test", r); err != nil {
		w.t.Fatal(err)
	}
	rd := smartdeal.Reading{Site: site, Device: site + "-capteur-0", Quantity: "no2", Unit: "ug/m3", Kind: smartdeal.KindNumber, Number: 150, Time: w.now.Add(-time.Minute)}
	if err := w.svc.HandleReadings(ctx, []smartdeal.Reading{rd}); err != nil {
		w.t.Fatal(err)
	}
}

// view reads the dashboard and returns what it cost.
func (w *dashWorld) view(t testing.TB) (*app.Dashboard, map[string]int, int64) {
	t.Helper()
	w.mstore.reset()
	w.alerts.n, w.dmeas.series, w.dmeas.atmos = 0, 0, 0
	before := w.st.Statements()
	v, err := w.dash.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stmts := w.st.Statements() - before
	calls := w.mstore.reset()
	calls["alerts"], calls["influx:Series"], calls["influx:AtmoSites"] = w.alerts.n, w.dmeas.series, w.dmeas.atmos
	return v, calls, stmts
}

func freshMeasure(t testing.TB) (*measure.Client, *testenv.Influx, string) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	return meas, in, db
}

// TestDashboardView: every site with its state (the worst first), its
// devices' latest values, its ATMO index; the open alerts, the most severe
// first, and the recent ones; the active missions with their drones.
func TestDashboardView(t *testing.T) {
	meas, in, db := freshMeasure(t)
	w := newDashWorld(t, meas, in, db)
	calm := w.sensors(2, "pm2_5", "no2")
	orange := w.sensors(2, "pm2_5", "no2")
	rouge := w.sensors(1, "no2")
	down := w.sensors(2, "no2")
	w.write()
	ctx := context.Background()
	for i := range 2 {
		if err := w.st.SetDeviceStatus(ctx, fmt.Sprintf("%s-capteur-%d", down, i), "offline", w.now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	w.alert(orange, alerting.Orange)
	w.alert(rouge, alerting.Rouge)
	// An alert over: recent, not open.
	w.alert(calm, alerting.Jaune)
	if err := w.svc.HandleReadings(ctx, []smartdeal.Reading{{Site: calm, Device: calm + "-capteur-0", Quantity: "no2", Kind: smartdeal.KindNumber, Number: 1, Time: w.now}}); err != nil {
		t.Fatal(err)
	}
	m := w.flight(3, true)
	w.write()

	v, _, _ := w.view(t)
	if v.LatestErr != nil || v.AtmoErr != nil {
		t.Fatal(v.LatestErr, v.AtmoErr)
	}
	var order []app.SiteState
	for _, s := range v.Sites {
		order = append(order, s.State)
	}
	want := []app.SiteState{app.StateRouge, app.StateOrange, app.StateOffline, app.StateNoData, app.StateNormal}
	if !slices.Equal(order, want) {
		t.Fatalf("states %v, want %v", order, want)
	}
	if v.Sites[0].Site.ID != rouge || v.Sites[1].Site.ID != orange || v.Sites[2].Site.ID != down || v.Sites[3].Site.ID != "var" || v.Sites[4].Site.ID != calm {
		t.Fatalf("sites %v", v.Sites)
	}
	c := v.Sites[4]
	if len(c.Devices) != 2 || len(c.Devices[0].Latest) != 2 || c.Newest.IsZero() || c.Atmo == nil || c.Atmo.Class != atmo.Bon || !c.Atmo.Provisional || !c.Atmo.Partial {
		t.Fatalf("calm site %+v atmo %+v", c, c.Atmo)
	}
	if v.Sites[2].Offline != 2 || v.Sites[3].Atmo != nil {
		t.Fatalf("offline %+v; var atmo %+v", v.Sites[2], v.Sites[3].Atmo)
	}
	if len(v.Open) != 2 || v.Open[0].Severity != alerting.Rouge || v.Open[1].Severity != alerting.Orange || len(v.Sites[1].Alerts) != 1 {
		t.Fatalf("open %+v", v.Open)
	}
	if len(v.Recent) != 1 || v.Recent[0].Status != alerting.Cleared || v.Recent[0].Series.Site != calm {
		t.Fatalf("recent %+v", v.Recent)
	}
	if len(v.Missions) != 1 || v.Missions[0].Mission.ID != m.ID || v.Missions[0].Drone == nil || v.Missions[0].Site == nil {
		t.Fatalf("missions %+v", v.Missions)
	}
}

// TestDashboardQueries: the same calls and SQL statements for 2 sites and
// for 62 sites of 10 sensors with 20 alerts.
func TestDashboardQueries(t *testing.T) {
	meas, in, db := freshMeasure(t)
	w := newDashWorld(t, meas, in, db)
	s := w.sensors(2, "pm2_5", "no2")
	w.write()
	w.alert(s, alerting.Orange)
	small, smallCalls, smallStmts := w.view(t)
	for i := range 60 {
		s := w.sensors(10, "pm2_5", "no2", "water_level")
		if i%3 == 0 {
			w.alert(s, alerting.Rouge)
		}
	}
	w.flight(3, true)
	w.write()
	large, largeCalls, largeStmts := w.view(t)
	if len(small.Sites) != 2 || len(large.Sites) != 62 || len(large.Open) != 21 || len(large.Missions) != 1 {
		t.Fatalf("small %d sites; large %d sites, %d alerts, %d missions", len(small.Sites), len(large.Sites), len(large.Open), len(large.Missions))
	}
	wantCalls := map[string]int{"Sites": 1, "Devices": 1, "Missions": 1, "alerts": 2, "influx:Series": 1, "influx:AtmoSites": 1}
	if !maps.Equal(smallCalls, wantCalls) || !maps.Equal(largeCalls, wantCalls) || smallStmts != largeStmts {
		t.Errorf("small: %d statements %v; large: %d statements %v; want %v", smallStmts, smallCalls, largeStmts, largeCalls, wantCalls)
	}
	t.Logf("calls %v, %d SQL statements", largeCalls, largeStmts)
}

// TestDashboardInfluxDown: without InfluxDB the sites, alerts and missions
// still show, and the view says what is missing.
func TestDashboardInfluxDown(t *testing.T) {
	meas, err := measure.New(measure.Config{URL: "http://127.0.0.1:1", Bucket: "nowhere/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	w := newDashWorld(t, meas, nil, "")
	s := w.sensors(1, "no2")
	w.lines = nil
	w.alert(s, alerting.Orange)
	v, _, _ := w.view(t)
	if v.LatestErr == nil || v.AtmoErr == nil || len(v.Sites) != 2 || v.Sites[0].State != app.StateOrange || len(v.Open) != 1 {
		t.Fatalf("view %+v", v)
	}
}

// BenchmarkDashboardView measures the dashboard's data (Dashboards.View)
// over 50 sites × 10 devices × 5 quantities (2,500 latest values, the ATMO
// index of 50 sites from 2,000 pollutant series) with 25 open alerts, on
// SQLite and a local InfluxDB 1.8 without the measurements cache. Reports
// p50 and p95 latency.
func BenchmarkDashboardView(b *testing.B) {
	meas, in, db := freshMeasure(b)
	w := newDashWorld(b, meas, in, db)
	for i := range 50 {
		s := w.sensors(10, "pm2_5", "pm10", "no2", "o3", "water_level")
		if i%2 == 0 {
			w.alert(s, alerting.Orange)
		}
	}
	w.write()
	ctx := context.Background()
	run := func() time.Duration {
		start := time.Now()
		v, err := w.dash.View(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if len(v.Sites) != 51 || len(v.Open) != 25 || v.LatestErr != nil || v.AtmoErr != nil || v.Sites[0].Atmo == nil || len(v.Sites[0].Devices[0].Latest) != 5 {
			b.Fatalf("%d sites, %d alerts, %v %v", len(v.Sites), len(v.Open), v.LatestErr, v.AtmoErr)
		}
		return d
	}
	run() // warm up
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		lat = append(lat, run())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
}

// TestSiteView: a site's page charts every registered series of its
// devices over the span in one Read, lists its alerts and its ATMO index;
// a device's page only that device's; the calls are the same for 2 and for
// 20 devices; unknown sites and devices are not found.
func TestSiteView(t *testing.T) {
	meas, in, db := freshMeasure(t)
	w := newDashWorld(t, meas, in, db)
	ctx := context.Background()
	view := func(site, device string) (*app.SiteView, map[string]int, int64) {
		t.Helper()
		w.mstore.reset()
		w.alerts.n, w.dmeas.series, w.dmeas.atmos = 0, 0, 0
		before := w.st.Statements()
		v, err := w.dash.Site(ctx, site, device, 24*time.Hour, 100)
		if err != nil {
			t.Fatal(err)
		}
		calls := w.mstore.reset()
		calls["alerts"], calls["influx:AtmoSites"] = w.alerts.n, w.dmeas.atmos
		return v, calls, w.st.Statements() - before
	}
	small := w.sensors(2, "pm2_5", "no2")
	large := w.sensors(20, "pm2_5", "no2", "water_level")
	w.write()
	w.alert(small, alerting.Orange)
	v, smallCalls, smallStmts := view(small, "")
	if len(v.Devices) != 2 || len(v.Series) != 4 || len(v.Series[0].Points) != 1 || len(v.Alerts) != 1 || v.Atmo == nil || v.Atmo.Class != atmo.Bon || v.SeriesErr != nil {
		t.Fatalf("site %+v", v)
	}
	v, largeCalls, largeStmts := view(large, "")
	if len(v.Devices) != 20 || len(v.Series) != app.MaxSiteSeries || !v.Truncated || len(v.Alerts) != 0 {
		t.Fatalf("large site: %d devices, %d series, truncated %v", len(v.Devices), len(v.Series), v.Truncated)
	}
	if !maps.Equal(smallCalls, largeCalls) || smallStmts != largeStmts {
		t.Errorf("small %v %d statements, large %v %d", smallCalls, smallStmts, largeCalls, largeStmts)
	}
	v, _, _ = view(small, small+"-capteur-1")
	if v.Device == nil || len(v.Series) != 2 || v.Series[0].Device != small+"-capteur-1" || len(v.Alerts) != 0 { // the alert is capteur-0's
		t.Fatalf("device page %+v", v)
	}
	if _, err := w.dash.Site(ctx, "nulle-part", "", time.Hour, 100); civic.ErrorCode(err) != civic.ENOTFOUND {
		t.Errorf("unknown site: %v", err)
	}
	if _, err := w.dash.Site(ctx, small, "inconnu", time.Hour, 100); civic.ErrorCode(err) != civic.ENOTFOUND {
		t.Errorf("unknown device: %v", err)
	}
}
