package main

// Demo data of the all-in-one.
//
// `make run` makes readings flow, but a civic registry with no site, device or
// proposal shows a newcomer nothing of the product's point: proposals and
// missions tied to measurements. So on a fresh database (no site yet) and with
// api.demo on (the all-in-one's default; never cmd/api), the all-in-one
// registers what it simulates — its sites, their gateways and sensors with the
// quantities and units they really publish, the AtmoSud replay, the MAVLink
// bridge and its drones — then a demo citizen's proposals in the five themes,
// each linked to series the simulators feed, and a planned coastline mission of
// a simulated drone. Everything goes through the store's services, as the API's
// handlers do (same validation; same audit actions, with detail "demo"), so
// the demo cannot hold what the API would refuse. A second start, or any
// database that already has a site, is left alone.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cd06/smartdeal/cmd/internal/bridged"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/devices/drivers"
	"github.com/cd06/smartdeal/devices/gateway"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/devices/sim"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
)

// demoStore is what seeding needs from the relational store (sqlstore.Store):
// the services the API's handlers call.
type demoStore interface {
	Sites(ctx context.Context) ([]*civic.Site, error)
	CreateSite(ctx context.Context, s *civic.Site) error
	CreateDevice(ctx context.Context, d *civic.Device) error
	UserByEmail(ctx context.Context, email string) (*civic.User, error)
	CreateUser(ctx context.Context, u *civic.User) error
	Campaigns(ctx context.Context) ([]*civic.Campaign, error)
	CreateCampaign(ctx context.Context, c *civic.Campaign) error
	CreateProposal(ctx context.Context, p *civic.Proposal) error
	SetStatus(ctx context.Context, proposalID string, to civic.Status, actor *civic.User, reason string, now time.Time) (*civic.Proposal, error)
	CreateLink(ctx context.Context, l *civic.Link) error
	CreateMission(ctx context.Context, m *civic.Mission) error
	Record(ctx context.Context, e civic.AuditEntry) error
}

// demoSeedTimeout bounds the seeding: it runs before the API serves.
const demoSeedTimeout = 15 * time.Second

// seedDemo seeds the demo data when the registry is empty. Failing to seed is
// logged and does not stop the platform: the demo is a convenience.
func (p *platform) seedDemo(ctx context.Context, store demoStore, gateways []gateway.Config) {
	ctx, cancel := context.WithTimeout(ctx, demoSeedTimeout)
	defer cancel()
	log := p.log.With("component", "demo")
	start := time.Now()
	fleet, err := demoFleet(ctx, gateways, p.cfg.Sim.Drones)
	if err != nil {
		log.Warn("demo data not seeded", "err", err)
		return
	}
	sum, err := seedDemo(ctx, store, fleet, demoOptions{AdminEmail: p.cfg.API.AdminEmail, Now: time.Now(), Survey: droneSurvey})
	switch {
	case errors.Is(err, errDemoNotEmpty):
		log.Info("demo data not seeded: the registry already has sites (start on a fresh data_dir to see it again)")
	case err != nil:
		log.Warn("demo data not seeded", "err", err)
	default:
		log.Info("demo data seeded (api.demo=false to start without it)", "sites", sum.Sites, "devices", sum.Devices,
			"proposals", sum.Proposals, "shortlisted", sum.Shortlisted, "links", sum.Links, "missions", sum.Missions,
			"campaign", sum.Campaign, "citizen", demoCitizenEmail, "took", time.Since(start).Round(time.Millisecond))
	}
}

// demoSite is a simulated site as the registry holds it.
type demoSite struct {
	Site    civic.Site
	Devices []civic.Device
}

// demoPlaces are the simulated sites' names and positions (WGS84).
var demoPlaces = map[string]civic.Site{
	"nice-port":        {Name: "Nice — Port Lympia", Location: civic.Point{Lat: 43.6950, Lon: 7.2860}},
	"cannes-croisette": {Name: "Cannes — La Croisette", Location: civic.Point{Lat: 43.5500, Lon: 7.0260}},
	"breil-sur-roya":   {Name: "Breil-sur-Roya — bords de la Roya", Location: civic.Point{Lat: 43.9375, Lon: 7.5140}},
}

// demoPlace names and places a site; a site the demo does not know goes near
// the Centre administratif départemental in Nice.
func demoPlace(i int, id string) civic.Site {
	s, ok := demoPlaces[id]
	if !ok {
		s = civic.Site{Name: id, Location: civic.Point{Lat: 43.7130 + 0.01*float64(i), Lon: 7.2000}}
	}
	s.ID = id
	return s
}

// demoModels describe the simulated devices (model field of the registry).
var demoModels = map[string]string{
	sim.ProfileWeather: "Station météo simulée (type BME280)",
	sim.ProfileAir:     "Capteur de particules et gaz simulé",
	sim.ProfileRiver:   "Sonde de niveau d'eau simulée",
	sim.ProfileRain:    "Pluviomètre à augets simulé",
}

// droneQuantities are the numeric quantities the MAVLink bridge publishes for
// a drone (firmware-bridge tracker), with their SenML units.
var droneQuantities = []civic.DeviceQuantity{
	{Quantity: drone.QLatitude, Unit: drone.UnitLat}, {Quantity: drone.QLongitude, Unit: drone.UnitLon},
	{Quantity: drone.QAltitude, Unit: drone.UnitMetre}, {Quantity: drone.QRelativeAltitude, Unit: drone.UnitMetre},
	{Quantity: drone.QGroundSpeed, Unit: drone.UnitSpeed}, {Quantity: drone.QClimbRate, Unit: drone.UnitSpeed},
	{Quantity: drone.QHeading, Unit: drone.UnitRadian}, {Quantity: drone.QRoll, Unit: drone.UnitRadian},
	{Quantity: drone.QPitch, Unit: drone.UnitRadian}, {Quantity: drone.QYaw, Unit: drone.UnitRadian},
	{Quantity: drone.QGPSFixType}, {Quantity: drone.QSatellites, Unit: drone.UnitCount}, {Quantity: drone.QGPSHDOP},
	{Quantity: drone.QBatteryVoltage, Unit: drone.UnitVolt}, {Quantity: drone.QBatteryCurrent, Unit: drone.UnitAmpere},
	{Quantity: drone.QBatteryRemaining, Unit: drone.UnitPercent}, {Quantity: drone.QMissionItem},
	{Quantity: drone.QLinkQuality, Unit: drone.UnitRatio}, {Quantity: drone.QPacketsLost, Unit: drone.UnitCount},
}

// demoFleet describes what the all-in-one simulates, from the very gateway
// configurations it runs: each sensor is opened (simulated drivers need no
// hardware) and asked what it publishes. The first site also gets the MAVLink
// bridge and the drones when there are any.
func demoFleet(ctx context.Context, gateways []gateway.Config, drones int) ([]demoSite, error) {
	out := make([]demoSite, 0, len(gateways))
	for i, gc := range gateways {
		ds := demoSite{Site: demoPlace(i, gc.Site)}
		ds.Devices = append(ds.Devices, civic.Device{ID: gc.DeviceID(), SiteID: gc.Site, Kind: civic.DeviceGateway,
			Model: "Passerelle Raspberry Pi simulée"})
		for _, sc := range gc.Sensors {
			qs, err := sensorQuantities(ctx, sc)
			if err != nil {
				return nil, fmt.Errorf("sensor %s: %w", sc.Device, err)
			}
			var model string
			switch o := sc.Options.(type) {
			case *sim.Config:
				model = demoModels[o.Profile]
			case *replay.Config:
				model = "Rejeu AtmoSud (station " + o.Station + ")"
			}
			ds.Devices = append(ds.Devices, civic.Device{ID: sc.Device, SiteID: gc.Site, Kind: civic.DeviceSensor, Model: model, Quantities: qs})
		}
		if i == 0 && drones > 0 {
			ds.Devices = append(ds.Devices, civic.Device{ID: bridged.DefaultDevice, SiteID: gc.Site, Kind: civic.DeviceGateway,
				Model: "Pont MAVLink (gomavlib)"})
			for n := 1; n <= drones; n++ {
				ds.Devices = append(ds.Devices, civic.Device{ID: drone.DeviceID(uint8(n)), SiteID: gc.Site, Kind: civic.DeviceDrone,
					Model: "Quadricoptère de relevé simulé (MAVLink)", Quantities: slices.Clone(droneQuantities)})
			}
		}
		out = append(out, ds)
	}
	return out, nil
}

// sensorQuantities opens a simulated sensor and returns what it publishes: a
// replay's every pollutant, otherwise the quantities and units of one read.
func sensorQuantities(ctx context.Context, sc drivers.SensorConfig) ([]civic.DeviceQuantity, error) {
	s, err := drivers.Open(ctx, sc, nil)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var qs []civic.DeviceQuantity
	if r, ok := s.(*replay.Sensor); ok {
		for _, q := range r.Quantities() {
			qs = append(qs, civic.DeviceQuantity{Quantity: q, Unit: replay.Unit})
		}
		return qs, nil
	}
	ms, err := s.Read(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		qs = append(qs, civic.DeviceQuantity{Quantity: m.Quantity, Unit: m.Unit})
	}
	return qs, nil
}

// demoSeries is a series a demo proposal or mission links to.
type demoSeries struct{ Site, Device, Quantity string }

// demoProposal is a demo citizen's proposal.
type demoProposal struct {
	Theme, Title, Body string
	Location           civic.Point
	CostEUR            int64
	Shortlisted        bool
	Series             []demoSeries
	// Mission marks the proposal the demo mission is flown for.
	Mission bool
}

// demoProposals are written for the default simulated sites (their device ids
// are <site>-<sensor>, the drones drone-<n>); a series the fleet does not have
// (other sites, fewer sensors, no drone) is not linked, and a proposal left
// with no series is not seeded.
var demoProposals = []demoProposal{
	{
		Theme: "environnement-risques",
		Title: "Capteurs de crue sur la Roya pour alerter Breil-sur-Roya",
		Body: "Depuis la tempête Alex, chaque épisode pluvieux inquiète la vallée. Je propose des sondes de niveau " +
			"d'eau et des pluviomètres connectés le long de la Roya, avec des seuils d'alerte affichés en mairie et " +
			"envoyés par SMS aux riverains, et des données ouvertes pour les secours.",
		Location: civic.Point{Lat: 43.9368, Lon: 7.5132}, CostEUR: 180_000, Shortlisted: true,
		Series: []demoSeries{{"breil-sur-roya", "breil-sur-roya-river-1", "water_level"}, {"breil-sur-roya", "breil-sur-roya-rain-1", "rain"}},
	},
	{
		Theme: "sante-solidarite",
		Title: "Qualité de l'air autour du port de Nice affichée en temps réel",
		Body: "Ferries et navires de croisière stationnent moteurs allumés à quelques mètres des habitations du " +
			"quartier du port. Mesurons le dioxyde d'azote et les particules fines sur les quais, comparons-les à la " +
			"station AtmoSud la plus proche et affichons-les sur un panneau place de l'Île-de-Beauté et dans les écoles.",
		Location: civic.Point{Lat: 43.6962, Lon: 7.2853}, CostEUR: 95_000, Shortlisted: true,
		Series: []demoSeries{{"nice-port", "nice-port-air-1", "no2"}, {"nice-port", "nice-port-air-1", "pm2_5"}, {"nice-port", "nice-port-atmosud", "no2"}},
	},
	{
		Theme: "environnement-risques",
		Title: "Suivre le trait de côte de Nice par drone après chaque tempête",
		Body: "Les plages de galets reculent et les coups de mer abîment les promenades. Un relevé par drone de la " +
			"côte, du port à Coco Beach, après chaque tempête et chaque mois permettrait de mesurer l'érosion, de " +
			"prioriser les travaux et de publier les images en données ouvertes.",
		Location: civic.Point{Lat: 43.6902, Lon: 7.2908}, CostEUR: 120_000, Mission: true,
		Series: []demoSeries{{"nice-port", "drone-1", "relative_altitude"}, {"nice-port", "nice-port-weather-1", "pressure"}},
	},
	{
		Theme: "economie-tourisme",
		Title: "La météo de la Croisette en direct pour les visiteurs",
		Body: "Température, humidité et ozone mesurés sur la Croisette, publiés sur le site de l'office de tourisme " +
			"et sur les écrans du Palais des Festivals : les visiteurs choisissent le bon moment pour la plage, les " +
			"commerçants anticipent les journées chaudes.",
		Location: civic.Point{Lat: 43.5505, Lon: 7.0215}, CostEUR: 45_000,
		Series: []demoSeries{{"cannes-croisette", "cannes-croisette-weather-1", "temperature"}, {"cannes-croisette", "cannes-croisette-weather-1", "relative_humidity"}, {"cannes-croisette", "cannes-croisette-atmosud", "o3"}},
	},
	{
		Theme: "securite",
		Title: "Pluviomètres connectés pour fermer à temps les parkings inondables de Cannes",
		Body: "En octobre 2015, l'eau a envahi des parkings souterrains en quelques minutes. Des pluviomètres et des " +
			"sondes sur les vallons, reliés à la police municipale, déclencheraient la fermeture des parkings et des " +
			"passages souterrains dès que la pluie ou le niveau d'eau dépasse un seuil.",
		Location: civic.Point{Lat: 43.5528, Lon: 7.0174}, CostEUR: 150_000,
		Series: []demoSeries{{"cannes-croisette", "cannes-croisette-rain-1", "rain"}, {"cannes-croisette", "cannes-croisette-river-1", "water_level"}},
	},
	{
		Theme: "education-sport-culture",
		Title: "Une station météo pédagogique dans chaque école de la vallée de la Roya",
		Body: "Les élèves relèveraient température et pluie avec une station connectée à leur école, compareraient " +
			"leurs mesures à celles du réseau départemental et prépareraient chaque année une exposition sur le " +
			"climat de la vallée.",
		Location: civic.Point{Lat: 43.9383, Lon: 7.5146}, CostEUR: 30_000,
		Series: []demoSeries{{"breil-sur-roya", "breil-sur-roya-weather-1", "temperature"}, {"breil-sur-roya", "breil-sur-roya-rain-1", "rain"}},
	},
}

// Demo accounts: no one knows their passwords (random, hashed, never logged).
const (
	demoCitizenEmail = "camille.demo@smartdeal.localhost"
	demoAgentEmail   = "agent.demo@smartdeal.localhost"
)

// demoOptions are what seeding needs beyond the fleet.
type demoOptions struct {
	// AdminEmail is the administrator who publishes and shortlists the
	// proposals (moderation is theirs in the workflow).
	AdminEmail string
	// Now places the campaign (if one is created) and the mission window.
	Now time.Time
	// Survey is the mission's area, where the simulated drones fly.
	Survey []dronesim.Point
}

// demoSummary counts what seeding created.
type demoSummary struct {
	Sites, Devices, Proposals, Shortlisted, Links, Missions int
	Campaign                                                string
}

var errDemoNotEmpty = errors.New("the registry already has sites")

// seedDemo registers fleet and the demo's campaign, accounts, proposals and
// mission, unless the registry has a site (errDemoNotEmpty).
func seedDemo(ctx context.Context, st demoStore, fleet []demoSite, o demoOptions) (demoSummary, error) {
	var sum demoSummary
	sites, err := st.Sites(ctx)
	if err != nil {
		return sum, err
	}
	if len(sites) > 0 {
		return sum, errDemoNotEmpty
	}
	if o.AdminEmail == "" {
		return sum, errors.New("no administrator to publish the proposals: set api.admin_email")
	}
	admin, err := st.UserByEmail(ctx, o.AdminEmail)
	if err != nil {
		return sum, fmt.Errorf("administrator %s: %w", o.AdminEmail, err)
	}
	audit := func(action, target string) error {
		return st.Record(ctx, civic.AuditEntry{Actor: admin.ID, Action: action, Target: target, Detail: "demo"})
	}

	// Sites and devices; series remembers what can be linked.
	series := map[demoSeries]bool{}
	for _, ds := range fleet {
		site := ds.Site
		if err := st.CreateSite(ctx, &site); err != nil {
			return sum, fmt.Errorf("site %s: %w", site.ID, err)
		}
		if err := audit("site.create", site.ID); err != nil {
			return sum, err
		}
		sum.Sites++
		for _, d := range ds.Devices {
			if err := st.CreateDevice(ctx, &d); err != nil {
				return sum, fmt.Errorf("device %s: %w", d.ID, err)
			}
			if err := audit("device.create", d.ID); err != nil {
				return sum, err
			}
			sum.Devices++
			for _, q := range d.Quantities {
				series[demoSeries{d.SiteID, d.ID, q.Quantity}] = true
			}
		}
	}

	campaign, err := demoCampaign(ctx, st, o.Now, audit)
	if err != nil {
		return sum, err
	}
	sum.Campaign = campaign.ID
	citizen, err := demoUser(ctx, st, demoCitizenEmail, "Camille Roux (démo)", civic.RoleCitizen)
	if err != nil {
		return sum, err
	}

	var missionFor []string
	for _, dp := range demoProposals {
		var links []demoSeries
		for _, s := range dp.Series {
			if series[s] {
				links = append(links, s)
			}
		}
		if len(links) == 0 {
			continue
		}
		loc := dp.Location
		p := &civic.Proposal{CampaignID: campaign.ID, ThemeID: dp.Theme, AuthorID: citizen.ID, Title: dp.Title, Body: dp.Body,
			Location: &loc, EstimatedCostEUR: dp.CostEUR}
		if err := st.CreateProposal(ctx, p); err != nil {
			return sum, fmt.Errorf("proposal %q: %w", dp.Title, err)
		}
		steps := []civic.Status{civic.StatusPublished}
		if dp.Shortlisted {
			steps = append(steps, civic.StatusShortlisted)
		}
		for _, to := range steps {
			if _, err := st.SetStatus(ctx, p.ID, to, admin, "", o.Now); err != nil {
				return sum, fmt.Errorf("proposal %q → %s: %w", dp.Title, to, err)
			}
		}
		for _, s := range links {
			if err := st.CreateLink(ctx, &civic.Link{ProposalID: p.ID, SiteID: s.Site, DeviceID: s.Device, Quantity: s.Quantity}); err != nil {
				return sum, fmt.Errorf("proposal %q link: %w", dp.Title, err)
			}
			sum.Links++
		}
		sum.Proposals++
		if dp.Shortlisted {
			sum.Shortlisted++
		}
		if dp.Mission {
			missionFor = append(missionFor, p.ID)
		}
	}

	missions, links, err := demoMission(ctx, st, fleet, series, missionFor, o, audit)
	sum.Missions += missions
	sum.Links += links
	return sum, err
}

// demoCampaign returns the running call for citizen proposals, or creates the
// year's SMART Deal campaign (as apid's bootstrap does) when none runs now.
func demoCampaign(ctx context.Context, st demoStore, now time.Time, audit func(action, target string) error) (*civic.Campaign, error) {
	cs, err := st.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Kind == civic.CampaignIdeas && c.Open(now) {
			return c, nil
		}
	}
	y := now.Year()
	c := &civic.Campaign{ID: fmt.Sprintf("smart-deal-%d", y), Name: fmt.Sprintf("SMART Deal %d", y), Kind: civic.CampaignIdeas,
		Starts: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), Ends: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC),
		BudgetEUR: civic.DefaultBudgetEUR, ShortlistTopN: 10}
	if err := st.CreateCampaign(ctx, c); err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	return c, audit("campaign.create", c.ID)
}

// demoUser returns the account with email, creating it with a random password
// that is hashed and forgotten.
func demoUser(ctx context.Context, st demoStore, email, name string, role civic.Role) (*civic.User, error) {
	u, err := st.UserByEmail(ctx, email)
	if err == nil {
		if u.Role != role {
			return nil, fmt.Errorf("demo account %s exists with role %s, not %s", email, u.Role, role)
		}
		return u, nil
	}
	if civic.ErrorCode(err) != civic.ENOTFOUND {
		return nil, err
	}
	hash, err := api.DefaultPasswordParams().Hash(rand.Text())
	if err != nil {
		return nil, err
	}
	u = &civic.User{Email: email, Name: name, Role: role, PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("demo account %s: %w", email, err)
	}
	return u, nil
}

// demoMission plans tomorrow morning's coastline survey at the first site,
// flown by its first drone for proposals, over the area the simulated drones
// sweep, with the drone's altitude and battery linked. No drone or no area:
// no mission. It returns the missions and links it created.
func demoMission(ctx context.Context, st demoStore, fleet []demoSite, series map[demoSeries]bool, proposals []string,
	o demoOptions, audit func(action, target string) error) (missions, links int, err error) {
	if len(fleet) == 0 || len(o.Survey) < 3 {
		return 0, 0, nil
	}
	site, droneID := fleet[0].Site.ID, drone.DeviceID(1)
	if !series[demoSeries{site, droneID, drone.QRelativeAltitude}] {
		return 0, 0, nil
	}
	ring := make([][]float64, 0, len(o.Survey)+1)
	for _, pt := range o.Survey {
		ring = append(ring, []float64{pt.Lon, pt.Lat})
	}
	ring = append(ring, ring[0])
	area, err := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring}})
	if err != nil {
		return 0, 0, err
	}
	agent, err := demoUser(ctx, st, demoAgentEmail, "Karim Benali (agent, démo)", civic.RoleAgent)
	if err != nil {
		return 0, 0, err
	}
	// 08:00–11:00 in Nice (UTC+1 in winter, close enough in summer), tomorrow.
	from := o.Now.UTC().Truncate(24 * time.Hour).Add(24*time.Hour + 7*time.Hour)
	m := &civic.Mission{Title: "Relevé du trait de côte du port de Nice à Coco Beach", Kind: "coastline", Area: area,
		PlannedFrom: from, PlannedTo: from.Add(3 * time.Hour), AgentID: agent.ID, SiteID: site, DroneID: droneID,
		ProposalIDs: proposals}
	if err := st.CreateMission(ctx, m); err != nil {
		return 0, 0, fmt.Errorf("mission: %w", err)
	}
	if err := audit("mission.create", m.ID); err != nil {
		return 1, 0, err
	}
	for _, q := range []string{drone.QRelativeAltitude, drone.QBatteryRemaining} {
		if !series[demoSeries{site, droneID, q}] {
			continue
		}
		if err := st.CreateLink(ctx, &civic.Link{MissionID: m.ID, SiteID: site, DeviceID: droneID, Quantity: q}); err != nil {
			return 1, links, fmt.Errorf("mission link: %w", err)
		}
		links++
	}
	return 1, links, nil
}
