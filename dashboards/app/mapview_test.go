package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// countingMapStore counts the map's store calls, by method.
type countingMapStore struct {
	app.MapStore
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingMapStore) count(m string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[m]++
}

func (c *countingMapStore) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingMapStore) Proposals(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error) {
	c.count("Proposals")
	return c.MapStore.Proposals(ctx, f)
}

func (c *countingMapStore) Themes(ctx context.Context) ([]*civic.Theme, error) {
	c.count("Themes")
	return c.MapStore.Themes(ctx)
}

func (c *countingMapStore) Campaigns(ctx context.Context) ([]*civic.Campaign, error) {
	c.count("Campaigns")
	return c.MapStore.Campaigns(ctx)
}

func (c *countingMapStore) Sites(ctx context.Context) ([]*civic.Site, error) {
	c.count("Sites")
	return c.MapStore.Sites(ctx)
}

func (c *countingMapStore) Devices(ctx context.Context, site string) ([]*civic.Device, error) {
	c.count("Devices")
	return c.MapStore.Devices(ctx, site)
}

func (c *countingMapStore) Missions(ctx context.Context) ([]*civic.Mission, error) {
	c.count("Missions")
	return c.MapStore.Missions(ctx)
}

// countingMapMeasurements counts the map's InfluxDB requests: Reads,
// Series listings and ATMO indices.
type countingMapMeasurements struct {
	app.MapMeasurements
	mu                  sync.Mutex
	reads, series, atmo int
}

func (c *countingMapMeasurements) AtmoSites(ctx context.Context, day, now time.Time) (map[string]*atmo.Index, error) {
	c.mu.Lock()
	c.atmo++
	c.mu.Unlock()
	return c.MapMeasurements.AtmoSites(ctx, day, now)
}

func (c *countingMapMeasurements) Read(ctx context.Context, r measure.Reads) (*measure.Results, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.MapMeasurements.Read(ctx, r)
}

func (c *countingMapMeasurements) Series(ctx context.Context, f measure.Filter) ([]measure.Latest, error) {
	c.mu.Lock()
	c.series++
	c.mu.Unlock()
	return c.MapMeasurements.Series(ctx, f)
}

func (c *countingMapMeasurements) reset() (reads, series, atmo int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads, series, atmo = c.reads, c.series, c.atmo
	c.reads, c.series, c.atmo = 0, 0, 0
	return reads, series, atmo
}

// mapWorld is a world with the map's views over it.
type mapWorld struct {
	*world
	mstore *countingMapStore
	mmeas  *countingMapMeasurements
	maps   *app.Maps
	n      int // names things uniquely
}

func newMapWorld(t testing.TB, meas app.MapMeasurements, in *testenv.Influx, db string) *mapWorld {
	w := &mapWorld{world: newWorldOn(t, sqltest.SQLite(t), meas, in, db)}
	w.mstore = &countingMapStore{MapStore: w.st, calls: map[string]int{}}
	w.mmeas = &countingMapMeasurements{MapMeasurements: meas}
	w.maps = app.NewMaps(w.mstore, w.mmeas, func() time.Time { return w.now })
	return w
}

// located files a proposal at (lat, lon) in status.
func (w *mapWorld) located(status civic.Status, lat, lon float64) *civic.Proposal {
	ctx := context.Background()
	w.n++
	p := &civic.Proposal{CampaignID: w.campaign, ThemeID: civic.SeedThemes[w.n%5].ID, AuthorID: w.author.ID, Title: fmt.Sprintf("Idée %d", w.n), Body: "Sur la carte.",
		Location: &civic.Point{Lat: lat, Lon: lon}}
	if err := w.st.CreateProposal(ctx, p); err != nil {
		w.t.Fatal(err)
	}
	if status == civic.StatusSubmitted {
		return p
	}
	p, err := w.st.SetStatus(ctx, p.ID, status, w.admin, "", time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// sensors registers n sensors at a new site, each measuring quantities,
// with a reading of each written 5 minutes ago — or at midnight in Paris
// when the day is younger, so that the day's ATMO index always has it.
func (w *mapWorld) sensors(n int, quantities ...string) (site string) {
	ctx := context.Background()
	w.n++
	site = fmt.Sprintf("site-%d", w.n)
	if err := w.st.CreateSite(ctx, &civic.Site{ID: site, Name: "Site " + site, Location: civic.Point{Lat: 43.6 + float64(w.n%40)/100, Lon: 7.0 + float64(w.n%30)/100}}); err != nil {
		w.t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		w.t.Fatal(err)
	}
	y, m, d := w.now.In(paris).Date()
	at := max(w.now.Add(-5*time.Minute).Unix(), time.Date(y, m, d, 0, 0, 0, 0, paris).Unix())
	for i := range n {
		dev := fmt.Sprintf("%s-capteur-%d", site, i)
		var qs []civic.DeviceQuantity
		for _, q := range quantities {
			qs = append(qs, civic.DeviceQuantity{Quantity: q, Unit: "x"})
			v := float64(i % 5)
			if q == app.AtmoQuantity {
				v = 3
			}
			w.lines = append(w.lines, fmt.Sprintf("telemetry,site=%s,device=%s,quantity=%s,unit=x value=%g %d", site, dev, q, v, at))
		}
		if err := w.st.CreateDevice(ctx, &civic.Device{ID: dev, SiteID: site, Kind: civic.DeviceSensor, Model: "sim", Quantities: qs}); err != nil {
			w.t.Fatal(err)
		}
	}
	return site
}

// flight plans a mission of the world's drone and flies it: points fixes
// a second apart from 30 minutes ago, zigzagging 50 m (no fix is on a
// straight line the map could drop); active leaves it flying.
func (w *mapWorld) flight(points int, active bool) *civic.Mission {
	ctx := context.Background()
	m := &civic.Mission{Title: "Relevé du littoral", Kind: "coastline",
		Area:        json.RawMessage(`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}`),
		PlannedFrom: w.now.Add(-time.Hour), PlannedTo: w.now.Add(time.Hour), AgentID: w.agent.ID, SiteID: "var", DroneID: "drone", ProposalIDs: []string{}}
	if err := w.st.CreateMission(ctx, m); err != nil {
		w.t.Fatal(err)
	}
	start := w.now.Add(-30 * time.Minute).Truncate(time.Second)
	m, err := w.st.SetMissionStatus(ctx, m.ID, civic.MissionActive, w.agent.ID, start)
	if err != nil {
		w.t.Fatal(err)
	}
	if !active {
		if m, err = w.st.SetMissionStatus(ctx, m.ID, civic.MissionCompleted, w.agent.ID, start.Add(time.Duration(points)*time.Second)); err != nil {
			w.t.Fatal(err)
		}
	}
	for k := range points {
		at := start.Add(time.Duration(k) * time.Second).Unix()
		w.lines = append(w.lines,
			fmt.Sprintf("telemetry,site=var,device=drone,quantity=latitude,unit=lat,mission=%s value=%g %d", m.ID, 43.65+float64(k)/10000+float64(k%2)*0.0005, at),
			fmt.Sprintf("telemetry,site=var,device=drone,quantity=longitude,unit=lon,mission=%s value=%g %d", m.ID, 7.2+float64(k)/10000, at))
	}
	return m
}

// view reads the map and checks what it cost: each store method at most
// once, at most one Read and one Series; it returns the store calls (the
// InfluxDB requests under "influx:Read" and "influx:Series") and the SQL
// statements run.
func (w *mapWorld) view(t testing.TB, f app.MapFilter) (*app.MapView, map[string]int, int64) {
	t.Helper()
	w.mstore.reset()
	w.mmeas.reset()
	before := w.st.Statements()
	v, err := w.maps.View(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	stmts := w.st.Statements() - before
	calls := w.mstore.reset()
	for m, n := range calls {
		if n != 1 {
			t.Errorf("%s called %d times", m, n)
		}
	}
	reads, series, atmos := w.mmeas.reset()
	if reads > 1 || series > 1 || atmos > 1 {
		t.Errorf("%d reads, %d series listings and %d ATMO readings, want at most one each", reads, series, atmos)
	}
	calls["influx:Read"], calls["influx:Series"], calls["influx:AtmoSites"] = reads, series, atmos
	return v, calls, stmts
}

// TestMapView: the map shows the public proposals with a location, the
// sensors at their sites with their latest values and ATMO class, the
// missions with their areas and flown tracks, and the drone in flight at
// its last fix; its document parses as GeoJSON with coordinates in range.
func TestMapView(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	w := newMapWorld(t, meas, in, db)
	shown := w.located(civic.StatusPublished, 43.70, 7.26)
	w.located(civic.StatusSubmitted, 43.71, 7.27) // waiting for moderation: not on the map
	w.proposal(civic.StatusPublished)             // no location: not on the map
	site := w.sensors(2, "pm2_5", app.AtmoQuantity)
	done, flying := w.flight(600, false), w.flight(3, true)
	w.write()

	v, calls, _ := w.view(t, app.MapFilter{})
	if len(calls) != 9 || calls["influx:Read"] != 1 || calls["influx:Series"] != 1 || calls["influx:AtmoSites"] != 1 {
		t.Errorf("calls %v, want the six store methods, one Read, one Series and one AtmoSites", calls)
	}
	if len(v.Proposals) != 1 || v.Proposals[0].ID != shown.ID {
		t.Fatalf("proposals %v", v.Proposals)
	}
	if len(v.Sensors) != 2 {
		t.Fatalf("%d sensors", len(v.Sensors))
	}
	for _, s := range v.Sensors {
		if s.Site.ID != site || len(s.Latest) != 2 || s.Atmo != 3 {
			t.Errorf("sensor %s at %s: %d latest, atmo %d", s.Device.ID, s.Site.ID, len(s.Latest), s.Atmo)
		}
	}
	// The tracks are downsampled (app.MapTrackEvery): the 10-minute flight
	// at 1 Hz keeps its first and last fixes and at most one per 10 s.
	tracks := map[string]*measure.Track{}
	for _, m := range v.Missions {
		if m.Track != nil {
			tracks[m.Mission.ID] = m.Track
		}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if tr := tracks[done.ID]; tr == nil || len(tr.Points) < 55 || len(tr.Points) > 600/10+3 {
		t.Errorf("the 600-fix track downsampled: %+v", tr)
	} else if first, last := tr.Points[0], tr.Points[len(tr.Points)-1]; !near(first.Lat, 43.65) || !near(first.Lon, 7.2) ||
		!near(last.Lat, 43.65+0.0599+0.0005) || !near(last.Lon, 7.2599) || last.Time.Sub(first.Time) != 599*time.Second {
		t.Errorf("the downsampled track lost its ends: %+v … %+v", first, last)
	}
	if tr := tracks[flying.ID]; tr == nil || len(tr.Points) < 2 || len(tr.Points) > 3 {
		t.Errorf("the 3-fix track: %+v", tr)
	}
	if len(v.Drones) != 1 || v.Drones[0].Mission != flying.ID || v.Drones[0].Lat != 43.6502 || v.Drones[0].Device != "drone" {
		t.Errorf("drones %+v", v.Drones)
	}

	var buf bytes.Buffer
	if err := app.EncodeMap(&buf, v); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   int             `json:"version"`
		Themes    []app.MapName   `json:"themes"`
		Campaigns []app.MapName   `json:"campaigns"`
		Proposals json.RawMessage `json:"proposals"`
		Sensors   json.RawMessage `json:"sensors"`
		Missions  json.RawMessage `json:"missions"`
		Drones    []app.MapDroneJSON
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != app.MapDocumentVersion || len(doc.Themes) != 5 || len(doc.Campaigns) != 1 || len(doc.Drones) != 1 {
		t.Errorf("document %+v", doc)
	}
	kinds := map[string]int{}
	for name, raw := range map[string]json.RawMessage{"proposals": doc.Proposals, "sensors": doc.Sensors, "missions": doc.Missions} {
		fc := parseGeoJSON(t, raw)
		for _, f := range fc.Features {
			kinds[name+"/"+f.Geometry.GeoJSONType()]++
		}
	}
	want := map[string]int{"proposals/Point": 1, "sensors/Point": 2, "missions/Polygon": 2, "missions/LineString": 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%s: %d features, want %d (%v)", k, kinds[k], n, kinds)
		}
	}
	buf.Reset()
	if err := app.EncodeProposalsGeoJSON(&buf, v); err != nil {
		t.Fatal(err)
	}
	fc := parseGeoJSON(t, buf.Bytes())
	if len(fc.Features) != 1 || fc.Features[0].ID != shown.ID || fc.Features[0].Properties.MustString("title", "") != shown.Title {
		t.Errorf("open data %s", buf.Bytes())
	}

	// Filters: another theme hides the proposal, a quantity nobody
	// measures every sensor; a status that is not public shows nothing and
	// asks the store nothing for it.
	other := civic.SeedThemes[0].ID
	if other == shown.ThemeID {
		other = civic.SeedThemes[1].ID
	}
	if v, _, _ := w.view(t, app.MapFilter{ThemeID: other, Quantity: "no2"}); len(v.Proposals) != 0 || len(v.Sensors) != 0 || len(v.Missions) != 2 {
		t.Errorf("filtered: %d proposals, %d sensors", len(v.Proposals), len(v.Sensors))
	}
	if v, calls, _ := w.view(t, app.MapFilter{Status: civic.StatusSubmitted, Layers: app.LayerProposals}); len(v.Proposals) != 0 || calls["Proposals"] != 0 || calls["Sites"] != 0 || calls["Missions"] != 0 {
		t.Errorf("submitted: %d proposals, calls %v", len(v.Proposals), calls)
	}
	if v, _, _ := w.view(t, app.MapFilter{Status: civic.StatusPublished, Quantity: "pm2_5"}); len(v.Proposals) != 1 || len(v.Sensors) != 2 {
		t.Errorf("published, pm2_5: %d proposals, %d sensors", len(v.Proposals), len(v.Sensors))
	}
}

// parseGeoJSON parses raw with orb and checks every position is in range.
func parseGeoJSON(t *testing.T, raw []byte) *geojson.FeatureCollection {
	t.Helper()
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		t.Fatalf("not GeoJSON: %v", err)
	}
	for _, f := range fc.Features {
		b := f.Geometry.Bound()
		if b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			t.Errorf("feature %v out of range: %v", f.ID, b)
		}
	}
	return fc
}

// TestMapViewQueries: the map costs the same store calls, SQL statements
// and InfluxDB reads with 2 sensors, 2 proposals and 2 flights as with 60
// sensors, 40 proposals and 12 flights.
func TestMapViewQueries(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	w := newMapWorld(t, meas, in, db)
	grow := func(sites, perSite, proposals, flights int) {
		for range sites {
			w.sensors(perSite, "pm2_5", "no2")
		}
		for i := range proposals {
			w.located(civic.StatusPublished, 43.6+float64(i)/1000, 7.1)
		}
		for range flights {
			w.flight(4, false)
		}
		w.write()
	}
	grow(1, 2, 2, 2)
	small, smallCalls, smallStmts := w.view(t, app.MapFilter{})
	grow(6, 10, 38, 10)
	large, largeCalls, largeStmts := w.view(t, app.MapFilter{})
	if len(small.Sensors) != 2 || len(large.Sensors) != 62 || len(large.Proposals) != 40 || len(large.Missions) != 12 {
		t.Fatalf("small %d sensors; large %d sensors, %d proposals, %d missions", len(small.Sensors), len(large.Sensors), len(large.Proposals), len(large.Missions))
	}
	for _, m := range large.Missions {
		if m.Track == nil || len(m.Track.Points) < 2 || len(m.Track.Points) > 4 { // downsampled: the ends and at most one per 10 s
			t.Fatalf("mission %s track %+v", m.Mission.ID, m.Track)
		}
	}
	if smallStmts != largeStmts || !maps.Equal(smallCalls, largeCalls) {
		t.Errorf("small: %d statements %v; large: %d statements %v", smallStmts, smallCalls, largeStmts, largeCalls)
	}
	t.Logf("calls %v, %d SQL statements", largeCalls, largeStmts)
}

// TestMapViewInfluxDown: without InfluxDB the map still shows its
// proposals, sensors (without values) and missions (without tracks), and
// its document says what is missing.
func TestMapViewInfluxDown(t *testing.T) {
	meas, err := measure.New(measure.Config{URL: "http://127.0.0.1:1", Bucket: "nowhere/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	w := newMapWorld(t, meas, nil, "")
	w.located(civic.StatusPublished, 43.7, 7.2)
	w.sensors(1, "pm2_5")
	w.flight(2, true)
	w.lines = nil
	v, _, _ := w.view(t, app.MapFilter{})
	if v.LatestErr == nil || v.TracksErr == nil || len(v.Proposals) != 1 || len(v.Sensors) != 1 || len(v.Sensors[0].Latest) != 0 || len(v.Missions) != 1 || v.Missions[0].Track != nil {
		t.Fatalf("view %+v", v)
	}
	if len(v.Drones) != 1 || v.Drones[0].Lat != 43.7 { // at its site, the last fix unknown
		t.Errorf("drones %+v", v.Drones)
	}
	doc := v.Document()
	if !slices.Equal(doc.Partial, []string{"latest", "tracks"}) {
		t.Errorf("partial %v", doc.Partial)
	}
}

// TestParseMapFilter: the filters of a query, and what is refused.
func TestParseMapFilter(t *testing.T) {
	f, err := app.ParseMapFilter(url.Values{"campagne": {"abc"}, "theme": {"securite"}, "statut": {"published"}, "grandeur": {"pm2_5"}, "couches": {"propositions,capteurs"}})
	if err != nil || f.CampaignID != "abc" || f.ThemeID != "securite" || f.Status != civic.StatusPublished || f.Quantity != "pm2_5" || f.Layers != app.LayerProposals|app.LayerSensors {
		t.Fatalf("%+v %v", f, err)
	}
	if f, err := app.ParseMapFilter(url.Values{}); err != nil || f != (app.MapFilter{}) {
		t.Fatalf("empty: %+v %v", f, err)
	}
	for _, q := range []url.Values{{"statut": {"nope"}}, {"theme": {"a b"}}, {"grandeur": {"PM 2.5"}}, {"couches": {"tout"}}, {"campagne": {"<script>"}}} {
		if _, err := app.ParseMapFilter(q); civic.ErrorCode(err) != civic.EINVALID {
			t.Errorf("%v: %v", q, err)
		}
	}
}

func FuzzParseMapFilter(f *testing.F) {
	f.Add("campagne=abc&theme=securite&statut=published&grandeur=pm2_5&couches=propositions,capteurs")
	f.Add("statut=refused&couches=,")
	f.Add("theme=%00")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		mf, err := app.ParseMapFilter(q)
		if err != nil {
			return
		}
		if mf.Status != "" && !mf.Status.Valid() || mf.Layers&^app.AllLayers != 0 {
			t.Fatalf("accepted %+v", mf)
		}
	})
}

// TestMapDocument: a mission's area given as a Feature is drawn, a broken
// one and a one-fix track are left out, a proposal without a location is
// not a feature, and nothing is null where map.js expects a list.
func TestMapDocument(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	poly := `{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}`
	v := &app.MapView{Generated: now,
		Proposals: []*civic.Proposal{{ID: "a", Title: "Sans lieu", Status: civic.StatusPublished}, {ID: "b", Title: "Ici", Status: civic.StatusPublished, Location: &civic.Point{Lat: 43.7, Lon: 7.2}}},
		Missions: []app.MapMission{
			{Mission: &civic.Mission{ID: "feature", Area: json.RawMessage(`{"type":"Feature","properties":{},"geometry":` + poly + `}`)}},
			{Mission: &civic.Mission{ID: "broken", Area: json.RawMessage(`{"type":"Polygon","coordinates":"x"}`)},
				Track: &measure.Track{Points: []measure.TrackPoint{{Time: now, Lat: 43.7, Lon: 7.2}}}},
		}}
	var buf bytes.Buffer
	if err := app.EncodeMap(&buf, v); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"campaigns", "themes", "drones"} {
		if string(doc[k]) != "[]" {
			t.Errorf("%s: %s", k, doc[k])
		}
	}
	if _, ok := doc["partial"]; ok {
		t.Error("partial without an error")
	}
	if fc := parseGeoJSON(t, doc["proposals"]); len(fc.Features) != 1 || fc.Features[0].ID != "b" {
		t.Errorf("proposals %s", doc["proposals"])
	}
	if fc := parseGeoJSON(t, doc["missions"]); len(fc.Features) != 1 || fc.Features[0].ID != "feature" {
		t.Errorf("missions %s", doc["missions"])
	}
	if fc := parseGeoJSON(t, doc["sensors"]); len(fc.Features) != 0 {
		t.Errorf("sensors %s", doc["sensors"])
	}
	buf.Reset()
	if err := app.EncodeProposalsGeoJSON(&buf, &app.MapView{}); err != nil || !strings.Contains(buf.String(), `"features":[]`) {
		t.Errorf("empty open data %s %v", buf.String(), err)
	}
}

// TestMapViewAtmo: a sensor of an index pollutant takes its site's ATMO
// index of the day (atmo, from the site's series: a PM10 daily mean of 45
// µg/m³ is class 3, dégradé), in one more InfluxDB statement for every
// site; a sensor of another quantity, or at a site without pollutants,
// stays coloured by its state only.
func TestMapViewAtmo(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	w := newMapWorld(t, meas, in, db)
	ctx := context.Background()
	at := w.now.Add(-time.Second).Unix() // today in Paris (but in the first second of a day)
	for _, site := range []string{"air-port", "riviere"} {
		if err := w.st.CreateSite(ctx, &civic.Site{ID: site, Name: site, Location: civic.Point{Lat: 43.7, Lon: 7.27}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []struct{ site, id, quantity string }{{"air-port", "pm-1", "pm10"}, {"air-port", "thermo-1", "temperature"}, {"riviere", "niveau-1", "water_level"}} {
		if err := w.st.CreateDevice(ctx, &civic.Device{ID: d.id, SiteID: d.site, Kind: civic.DeviceSensor, Model: "sim", Quantities: []civic.DeviceQuantity{{Quantity: d.quantity, Unit: "x"}}}); err != nil {
			t.Fatal(err)
		}
		v := 45.0
		if d.quantity != "pm10" {
			v = 1.5
		}
		w.lines = append(w.lines, fmt.Sprintf("telemetry,site=%s,device=%s,quantity=%s,unit=x value=%g %d", d.site, d.id, d.quantity, v, at))
	}
	w.write()
	v, _, _ := w.view(t, app.MapFilter{})
	if v.AtmoErr != nil {
		t.Fatal(v.AtmoErr)
	}
	got := map[string]int{}
	for _, s := range v.Sensors {
		got[s.Device.ID] = s.Atmo
	}
	if want := map[string]int{"pm-1": 3, "thermo-1": 0, "niveau-1": 0}; !maps.Equal(got, want) {
		t.Fatalf("ATMO classes %v, want %v", got, want)
	}
	var doc bytes.Buffer
	if err := app.EncodeMap(&doc, v); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc.Bytes(), []byte(`"atmo":3`)) {
		t.Fatalf("the map document carries no ATMO class: %.300s", doc.String())
	}
}
