package app

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// ProposalLister lists proposals and what they are filed under.
type ProposalLister interface {
	Proposals(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error)
	Themes(ctx context.Context) ([]*civic.Theme, error)
	Campaigns(ctx context.Context) ([]*civic.Campaign, error)
}

// FieldLister lists the sites, their devices and the missions.
type FieldLister interface {
	Sites(ctx context.Context) ([]*civic.Site, error)
	Devices(ctx context.Context, siteID string) ([]*civic.Device, error)
	Missions(ctx context.Context) ([]*civic.Mission, error)
}

// MapMeasurements is what the map reads from InfluxDB (measure.Client):
// every series' latest value in one listing, the tracks in one Read.
type MapMeasurements interface {
	Measurements
	Series(ctx context.Context, f series.Filter) ([]series.Latest, error)
	// AtmoSites is every site's ATMO index of the day (measure.Client, in
	// one statement), which colours the air-quality sensors.
	AtmoSites(ctx context.Context, day, now time.Time) (map[string]*atmo.Index, error)
}

// MapStore is what the map reads from the relational store (sqlstore.Store).
type MapStore interface {
	ProposalLister
	FieldLister
}

// The map's bounds: what one view reads at most, whatever the registry
// holds. The newest proposals and missions come first.
const (
	// MaxMapProposals is the store's own cap on one listing.
	MaxMapProposals = 500
	// MaxMapMissions bounds the missions drawn (their areas).
	MaxMapMissions = 200
	// MaxMapTracks bounds the flown tracks read from InfluxDB.
	MaxMapTracks = 20
	// MapTrackEvery downsamples the map's tracks (series.TrackQuery.Every):
	// one fix per 10 s besides each track's first and last, 60 for a
	// 10-minute flight logged at 1 Hz instead of 600. The mission page
	// reads the full track.
	MapTrackEvery = 10 * time.Second
	// MaxMapSensors bounds the sensors whose latest values are read.
	MaxMapSensors = 2000
	// MapLookback is how far back a sensor's latest value may be.
	MapLookback = 24 * time.Hour
)

// AtmoQuantity is the quantity a sensor (or the risk dashboard's ATMO
// feed) publishes the ATMO index under, 1 (bon) to 6 (extrêmement mauvais).
const AtmoQuantity = "atmo_index"

// MapLayers selects what a map view reads; zero means all.
type MapLayers uint8

// The layers.
const (
	LayerProposals MapLayers = 1 << iota
	LayerSensors
	LayerMissions
	AllLayers = LayerProposals | LayerSensors | LayerMissions
)

// MapFilter narrows a map view; zero fields do not filter.
type MapFilter struct {
	CampaignID, ThemeID string
	// Status keeps the proposals in this status (a public one; another
	// shows none).
	Status civic.Status
	// Quantity keeps the sensors that measure it.
	Quantity string
	Layers   MapLayers
}

// MapView is what the map shows.
type MapView struct {
	Generated time.Time
	Campaigns []*civic.Campaign
	Themes    []*civic.Theme
	// Proposals are the public proposals with a location, newest first.
	Proposals []*civic.Proposal
	Sensors   []MapSensor
	Missions  []MapMission
	// Drones are the drones of active missions at their last known fix.
	Drones []MapDrone
	// LatestErr and TracksErr say InfluxDB could not give the latest
	// values or the tracks: the rest of the map still shows.
	LatestErr, TracksErr error
	// AtmoErr says InfluxDB could not give the sites' ATMO indices: the
	// sensors are then coloured by state only.
	AtmoErr error
}

// MapSensor is a sensor at its site with its latest readings (one per
// registered quantity that has one within MapLookback).
type MapSensor struct {
	Device *civic.Device
	Site   *civic.Site
	Latest []*series.Latest
	// Atmo is the ATMO index class (1–6): the one the sensor publishes as
	// AtmoQuantity, else, for a sensor of an index pollutant, its site's
	// index of the day (atmo, from the site's series); 0 otherwise.
	Atmo int
}

// MapMission is a mission with its area and, once flown (the newest
// MaxMapTracks of them), its track.
type MapMission struct {
	Mission *civic.Mission
	Track   *series.Track
}

// MapDrone is a drone flying a mission, where it was last seen.
type MapDrone struct {
	Site, Device   string
	Mission, Title string
	Lat, Lon       float64
	Time           time.Time
}

// Maps gathers map views.
type Maps struct {
	store MapStore
	meas  MapMeasurements
	now   func() time.Time
}

// NewMaps returns the map views over store and meas; now (optional)
// defaults to time.Now.
func NewMaps(store MapStore, meas MapMeasurements, now func() time.Time) *Maps {
	if now == nil {
		now = time.Now
	}
	return &Maps{store: store, meas: meas, now: now}
}

// View gathers the map: at most six store calls (Proposals, Themes,
// Campaigns, Sites, Devices, Missions; fewer with f.Layers), run at most
// Concurrency at a time, then two InfluxDB requests at once (Series for
// every sensor's latest values, one Read for every track), whatever the
// number of proposals, sensors and missions; without sensors or flown
// missions, the request for them is not made. Proposals are public only: the map is the same for
// everyone.
func (m *Maps) View(ctx context.Context, f MapFilter) (*MapView, error) {
	if f.Layers == 0 {
		f.Layers = AllLayers
	}
	now := m.now().UTC()
	v := &MapView{Generated: now, Campaigns: []*civic.Campaign{}, Themes: []*civic.Theme{}, Proposals: []*civic.Proposal{},
		Sensors: []MapSensor{}, Missions: []MapMission{}, Drones: []MapDrone{}}
	var proposals []*civic.Proposal
	var sites []*civic.Site
	var devices []*civic.Device
	var missions []*civic.Mission
	g, cx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	if f.Layers&LayerProposals != 0 {
		statuses := civic.PublicStatuses()
		if f.Status != "" {
			statuses = []civic.Status{f.Status}
			if !f.Status.Public() {
				statuses = nil
			}
		}
		if statuses != nil {
			g.Go(func() (err error) {
				proposals, err = m.store.Proposals(cx, civic.ProposalFilter{CampaignID: f.CampaignID, ThemeID: f.ThemeID, Statuses: statuses, Limit: MaxMapProposals})
				return err
			})
		}
		g.Go(func() (err error) {
			v.Themes, err = m.store.Themes(cx)
			return err
		})
		g.Go(func() (err error) {
			v.Campaigns, err = m.store.Campaigns(cx)
			return err
		})
	}
	if f.Layers&LayerSensors != 0 {
		g.Go(func() (err error) {
			sites, err = m.store.Sites(cx)
			return err
		})
		g.Go(func() (err error) {
			devices, err = m.store.Devices(cx, "")
			return err
		})
	}
	if f.Layers&LayerMissions != 0 {
		g.Go(func() (err error) {
			missions, err = m.store.Missions(cx)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	for _, p := range proposals {
		if p.Location != nil && p.Status.Public() {
			v.Proposals = append(v.Proposals, p)
		}
	}

	siteByID := make(map[string]*civic.Site, len(sites))
	for _, s := range sites {
		siteByID[s.ID] = s
	}
	for _, d := range devices {
		s := siteByID[d.SiteID]
		if s == nil || d.Kind != civic.DeviceSensor || len(v.Sensors) == MaxMapSensors {
			continue
		}
		if f.Quantity != "" && !slices.ContainsFunc(d.Quantities, func(q civic.DeviceQuantity) bool { return q.Quantity == f.Quantity }) {
			continue
		}
		v.Sensors = append(v.Sensors, MapSensor{Device: d, Site: s, Latest: []*series.Latest{}})
	}
	var reads series.Reads
	var tracked []int // index in v.Missions of each track read
	for _, ms := range missions[:min(len(missions), MaxMapMissions)] {
		v.Missions = append(v.Missions, MapMission{Mission: ms})
		if len(tracked) == MaxMapTracks || ms.Started == nil {
			continue
		}
		if q, ok := trackQuery(ms, now); ok {
			q.Every = MapTrackEvery
			tracked = append(tracked, len(v.Missions)-1)
			reads.Tracks = append(reads.Tracks, q)
		}
	}
	// Every series' latest value in one listing: one statement without a
	// condition per series, which InfluxDB 1.8 answers for 1,000 series in
	// ~25 ms where a 1,000-term condition (Reads.Latest) takes ~600 ms.
	var latest []series.Latest
	var res *series.Results
	var atmos map[string]*atmo.Index
	g, cx = errgroup.WithContext(ctx)
	if len(v.Sensors) > 0 {
		g.Go(func() error {
			latest, v.LatestErr = m.meas.Series(cx, series.Filter{Quantity: f.Quantity, Lookback: MapLookback})
			return nil // the map shows without values
		})
		g.Go(func() error {
			atmos, v.AtmoErr = m.meas.AtmoSites(cx, now, now)
			return nil // the map shows without the index
		})
	}
	if len(reads.Tracks) > 0 {
		g.Go(func() (err error) {
			res, err = m.meas.Read(cx, reads)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	newest := make(map[series.SeriesKey]*series.Latest, len(latest))
	for i := range latest {
		l := &latest[i]
		k := series.SeriesKey{Site: l.Site, Device: l.Device, Quantity: l.Quantity}
		if old := newest[k]; old == nil || l.Time.After(old.Time) {
			newest[k] = l
		}
	}
	for i := range v.Sensors {
		s := &v.Sensors[i]
		for _, q := range s.Device.Quantities {
			l := newest[series.SeriesKey{Site: s.Device.SiteID, Device: s.Device.ID, Quantity: q.Quantity}]
			if l == nil {
				continue
			}
			s.Latest = append(s.Latest, l)
			if l.Quantity == AtmoQuantity && l.Value >= 1 && l.Value <= 6 {
				s.Atmo = int(l.Value)
			}
		}
		if x := atmos[s.Device.SiteID]; s.Atmo == 0 && x != nil && x.Class.Valid() &&
			slices.ContainsFunc(s.Device.Quantities, func(q civic.DeviceQuantity) bool { return atmo.IsPollutant(q.Quantity) }) {
			s.Atmo = int(x.Class)
		}
	}
	if res != nil {
		v.TracksErr = res.TracksErr
		if res.TracksErr == nil {
			for i, at := range tracked {
				v.Missions[at].Track = res.Tracks[i]
			}
		}
	}
	for _, mm := range v.Missions {
		ms := mm.Mission
		if ms.Status != civic.MissionActive {
			continue
		}
		d := MapDrone{Site: ms.SiteID, Device: ms.DroneID, Mission: ms.ID, Title: ms.Title}
		if t := mm.Track; t != nil && len(t.Points) > 0 {
			last := t.Points[len(t.Points)-1]
			d.Lat, d.Lon, d.Time = last.Lat, last.Lon, last.Time
		} else if s := siteByID[ms.SiteID]; s != nil {
			d.Lat, d.Lon = s.Location.Lat, s.Location.Lon
		} else {
			continue // nowhere to show it yet
		}
		v.Drones = append(v.Drones, d)
	}
	return v, nil
}

// ParseMapFilter reads a map's filters from a query string (or from the
// fragment map.js keeps, which uses the same keys): campagne, theme,
// statut, grandeur, and couches (propositions,capteurs,missions). Empty
// keys do not filter; a malformed value is a civic field error naming the
// key.
func ParseMapFilter(q url.Values) (MapFilter, error) {
	var f MapFilter
	for key, dst := range map[string]*string{"campagne": &f.CampaignID, "theme": &f.ThemeID} {
		if s := q.Get(key); s != "" {
			if !smartdeal.ValidID(strings.ToLower(s)) {
				return MapFilter{}, civic.FieldError(key, "not an identifier")
			}
			*dst = s
		}
	}
	if s := q.Get("statut"); s != "" {
		if st := civic.Status(s); !st.Valid() {
			return MapFilter{}, civic.FieldError("statut", "unknown status")
		}
		f.Status = civic.Status(s)
	}
	if s := q.Get("grandeur"); s != "" {
		if !smartdeal.ValidQuantity(s) {
			return MapFilter{}, civic.FieldError("grandeur", "not a quantity")
		}
		f.Quantity = s
	}
	if s := q.Get("couches"); s != "" {
		for _, l := range strings.Split(s, ",") {
			switch strings.TrimSpace(l) {
			case "propositions", "proposals":
				f.Layers |= LayerProposals
			case "capteurs", "sensors":
				f.Layers |= LayerSensors
			case "missions", "drones":
				f.Layers |= LayerMissions
			default:
				return MapFilter{}, civic.FieldError("couches", "want propositions, capteurs or missions")
			}
		}
	}
	return f, nil
}
