package pages

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The public map (/carte): proposals, sensors, missions and drones in
// flight on one map (map.js over Leaflet, dashboards/assets), and the same
// items as a list, which is what the page shows without JavaScript. One
// app.Maps.View gathers everything; the map document is embedded in the
// page (no second request), the list is rendered from the same view, and
// the query's filters (the keys of app.ParseMapFilter, also those of the
// map's URL fragment) hide the list items they exclude.

// mapPath is the map page.
const mapPath = "/carte"

// Tiles is a raster tile server for the maps (optional): without URL the
// maps draw the embedded base map of the Alpes-Maritimes, offline.
type Tiles struct {
	// URL is the template, https://tiles.example.org/{z}/{x}/{y}.png ({s}
	// is not supported: one origin, the one img-src allows).
	URL string `json:"url,omitempty"`
	// Attribution is shown on the map ("© OpenStreetMap contributors").
	Attribution string `json:"attribution,omitempty"`
	// MaxZoom defaults to 19 with a URL.
	MaxZoom int `json:"maxZoom,omitempty"`
}

// Validate checks t and fills MaxZoom; its errors name the configuration
// keys (map.tile_url, map.tile_attribution, map.tile_max_zoom).
func (t *Tiles) Validate() error {
	if t.URL == "" {
		if t.Attribution != "" || t.MaxZoom != 0 {
			return errors.New("map.tile_attribution, map.tile_max_zoom: only with map.tile_url")
		}
		return nil
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Contains(u.Host, "{") ||
		!strings.Contains(t.URL, "{z}") || !strings.Contains(t.URL, "{x}") || !strings.Contains(t.URL, "{y}") {
		return fmt.Errorf("map.tile_url: %q: want http(s)://host/…{z}…{x}…{y}…", t.URL)
	}
	if strings.TrimSpace(t.Attribution) == "" {
		return errors.New("map.tile_attribution: required with map.tile_url (the tile server's licence asks for it)")
	}
	if t.MaxZoom == 0 {
		t.MaxZoom = 19
	}
	if t.MaxZoom < 1 || t.MaxZoom > 22 {
		return errors.New("map.tile_max_zoom: want between 1 and 22")
	}
	return nil
}

// Origin is the scheme and host of the tile server ("" without one): what
// the map pages add to img-src.
func (t Tiles) Origin() string {
	if t.URL == "" {
		return ""
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// mapLayers are the map's layers, in map.js's names (the couches key).
var mapLayers = []struct{ Name, Label string }{
	{"proposals", "Propositions"}, {"sensors", "Capteurs"}, {"missions", "Missions (zones et vols)"}, {"drones", "Drones en vol"},
	{"alerts", "Alertes actives"}, // only for the alerts' readers (carte_alerts.go)
}

// mapLinks are the popups' link templates: the proposal, mission, site,
// device ({site} is the device's site) and alert pages.
var mapLinks = map[string]string{"proposal": "/idees/{id}", "mission": "/missions/{id}", "site": "/sites/{id}", "device": "/sites/{site}/appareils/{id}", "alert": "/alertes/{id}"}

// atmoFR names the ATMO index classes.
var atmoFR = [...]string{"", "Bon", "Moyen", "Dégradé", "Mauvais", "Très mauvais", "Extrêmement mauvais"}

// mapQuery reads the page's filters: app.ParseMapFilter's keys, with the
// no-JavaScript form's layer checkboxes (couche, several) folded into
// couches. Shown is the set of layers shown (all by default; none when the
// form was sent with every box unticked).
func mapQuery(q url.Values) (f app.MapFilter, shown map[string]bool, err error) {
	shown = map[string]bool{}
	couches := q.Get("couches")
	if cs := q["couche"]; len(cs) > 0 {
		couches = strings.Join(cs, ",")
	}
	switch {
	case couches != "":
		for _, l := range strings.Split(couches, ",") {
			if !slices.ContainsFunc(mapLayers, func(m struct{ Name, Label string }) bool { return m.Name == l }) {
				return f, nil, civic.FieldError("couches", "want proposals, sensors, missions, drones or alerts")
			}
			shown[l] = true
		}
	case q.Has("filtrer"): // the form's button: no box ticked, no layer
	default:
		for _, l := range mapLayers {
			shown[l.Name] = true
		}
	}
	q2 := url.Values{}
	for _, k := range []string{"campagne", "theme", "statut", "grandeur"} {
		if v := q.Get(k); v != "" {
			q2.Set(k, v)
		}
	}
	f, err = app.ParseMapFilter(q2)
	return f, shown, err
}

func (s *Pages) mapPage(c *fiber.Ctx) error {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return civic.FieldError("query", "malformed query string")
	}
	f, shown, err := mapQuery(q)
	if err != nil {
		return err
	}
	// The whole map, whatever the filters: map.js filters in the browser,
	// the list hides what the filters exclude, and both show the same items.
	v, err := s.maps.View(ctx(c), app.MapFilter{})
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	doc := v.Document()
	page := &mapPageView{Page: Page{Title: "Carte", Session: se, ImgSrc: s.cfg.Tiles.Origin()},
		Options: mapOptions{BaseMap: "/static/" + assets.URL(assets.BaseMap), Links: mapLinks, Live: "/api/v1/live"},
		MapJS:   "/static/" + assets.URL("map.js"), Partial: len(doc.Partial) > 0}
	if s.cfg.Tiles.URL != "" {
		t := s.cfg.Tiles
		page.Options.Tiles = &t
	}
	for _, n := range assets.MapStyles {
		page.Styles = append(page.Styles, "/static/"+assets.URL(n))
	}
	for _, n := range assets.MapScripts[:len(assets.MapScripts)-1] { // map.js is imported by the page's module
		page.Scripts = append(page.Scripts, "/static/"+assets.URL(n))
	}
	if page.Alerts, doc.Alerts, err = s.mapAlerts(c, se, v, shown["alerts"]); err != nil {
		return err
	}
	page.AlertsLayer = page.Alerts != nil
	for _, a := range page.Alerts {
		if !a.Hidden {
			page.Shown.Alerts++
		}
	}
	for _, l := range mapLayers {
		if l.Name == "alerts" && !page.AlertsLayer {
			continue
		}
		page.Layers = append(page.Layers, mapCheck{Name: l.Name, Label: l.Label, Checked: shown[l.Name]})
	}
	page.Campaigns = append(page.Campaigns, mapChoice{Label: "Toutes"})
	for _, cp := range v.Campaigns {
		page.Campaigns = append(page.Campaigns, mapChoice{Value: cp.ID, Label: cp.Name, Selected: cp.ID == f.CampaignID})
	}
	themeN := map[string]int{}
	page.Themes = append(page.Themes, mapChoice{Label: "Tous"})
	for i, t := range v.Themes {
		themeN[t.ID] = i + 1
		page.Themes = append(page.Themes, mapChoice{Value: t.ID, Label: strconv.Itoa(i+1) + ". " + t.NameFR, Selected: t.ID == f.ThemeID})
	}
	page.Statuses = append(page.Statuses, mapChoice{Label: "Tous"})
	for _, st := range civic.PublicStatuses() {
		page.Statuses = append(page.Statuses, mapChoice{Value: string(st), Label: fr.Status(st), Selected: st == f.Status})
	}
	quantities := map[string]bool{}
	for _, sn := range v.Sensors {
		for _, dq := range sn.Device.Quantities {
			quantities[dq.Quantity] = true
		}
	}
	qs := make([]string, 0, len(quantities))
	for q := range quantities {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	doc.Quantities, doc.Units = map[string]string{}, map[string]string{}
	page.Quantities = append(page.Quantities, mapChoice{Label: "Toutes"})
	for _, q := range qs {
		doc.Quantities[q] = fr.Quantity(q)
		page.Quantities = append(page.Quantities, mapChoice{Value: q, Label: fr.Quantity(q), Selected: q == f.Quantity})
	}

	for _, p := range v.Proposals {
		r := mapProposalRow{ID: p.ID, Title: p.Title, Theme: p.ThemeID, ThemeN: themeN[p.ThemeID], Campaign: p.CampaignID,
			Status: string(p.Status), StatusFR: fr.Status(p.Status), Votes: p.Votes,
			Lat: fr.Num(p.Location.Lat), Lon: fr.Num(p.Location.Lon)}
		r.Hidden = !shown["proposals"] || (f.CampaignID != "" && p.CampaignID != f.CampaignID) ||
			(f.ThemeID != "" && p.ThemeID != f.ThemeID) || (f.Status != "" && p.Status != f.Status)
		if !r.Hidden {
			page.Shown.Proposals++
		}
		page.Proposals = append(page.Proposals, r)
	}
	for _, sn := range v.Sensors {
		r := mapSensorRow{ID: sn.Device.ID, Site: sn.Site.ID, SiteName: sn.Site.Name, Model: sn.Device.Model, State: sensorStateFR(sn.Device.Status)}
		if r.State == "" {
			r.State = "État inconnu"
		}
		for _, dq := range sn.Device.Quantities {
			r.Quantities = append(r.Quantities, dq.Quantity)
		}
		if sn.Atmo > 0 {
			r.Atmo = "indice ATMO " + strconv.Itoa(sn.Atmo) + " : " + atmoFR[sn.Atmo]
		}
		for _, l := range sn.Latest {
			if l.Unit != "" {
				doc.Units[l.Unit] = fr.Unit(l.Unit)
			}
			val := fr.Num(l.Value)
			if u := fr.Unit(l.Unit); u != "" {
				val += "\u00a0" + u
			}
			r.Latest = append(r.Latest, mapValue{Quantity: fr.Quantity(l.Quantity), Value: val, When: fr.Time(l.Time)})
		}
		r.Hidden = !shown["sensors"] || (f.Quantity != "" && !slices.Contains(r.Quantities, f.Quantity))
		if !r.Hidden {
			page.Shown.Sensors++
		}
		page.Sensors = append(page.Sensors, r)
	}
	for _, mm := range v.Missions {
		m := mm.Mission
		r := mapMissionRow{ID: m.ID, Title: m.Title, Kind: missionKind(m.Kind), Status: missionStatusFR[m.Status], Site: m.SiteID, Hidden: !shown["missions"]}
		if mm.Track != nil && len(mm.Track.Points) >= 2 {
			r.Track = fr.Num(mm.Track.DistanceM/1000) + "\u00a0km en " + fr.Duration(time.Duration(mm.Track.DurationS*float64(time.Second)))
		}
		if !r.Hidden {
			page.Shown.Missions++
		}
		page.Missions = append(page.Missions, r)
	}
	for _, d := range v.Drones {
		r := mapDroneRow{Key: d.Site + "/" + d.Device, Device: d.Device, Mission: d.Mission, Title: d.Title,
			Position: fr.Num(d.Lat) + ", " + fr.Num(d.Lon), Hidden: !shown["drones"]}
		if !d.Time.IsZero() {
			r.When = fr.Time(d.Time)
		}
		if !r.Hidden {
			page.Shown.Drones++
		}
		page.Drones = append(page.Drones, r)
	}
	// map.js reads the filters from the fragment: the page's script moves
	// the query's there when the link has none.
	h := url.Values{}
	if len(shown) != len(mapLayers) {
		var names []string
		for _, l := range mapLayers {
			if shown[l.Name] {
				names = append(names, l.Name)
			}
		}
		h.Set("couches", strings.Join(names, ","))
	}
	for k, v := range map[string]string{"campagne": f.CampaignID, "theme": f.ThemeID, "statut": string(f.Status), "grandeur": f.Quantity} {
		if v != "" {
			h.Set(k, v)
		}
	}
	page.Fragment = strings.ReplaceAll(h.Encode(), "%2C", ",")
	// json.Marshal escapes <, > and & (and U+2028, U+2029): the document
	// cannot end the <script> element it is embedded in, so it goes in as
	// it is, without html/template's slower escaping of every string.
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("map document: %w", err)
	}
	page.Doc = template.JS(b)
	return s.render(c, "carte.html", page)
}

// mapRoutes is the map page.
func (s *Pages) mapRoutes() []*web.Route {
	return []*web.Route{
		{Method: "GET", Path: mapPath, Tag: "pages", Summary: "Page (HTML, French): the public map of proposals, sensors, missions and drones in flight, with its list alternative (what the page shows without JavaScript); filters campagne, theme, statut, grandeur, couches (or couche, repeated)",
			Params: []web.Param{web.Q("campagne", "string", "campaign id"), web.Q("theme", "string", "theme id"), web.Q("statut", "string", "proposal status (a public one)"),
				web.Q("grandeur", "string", "quantity the sensors measure"), web.Q("couches", "string", "layers shown: proposals,sensors,missions,drones,alerts (alerts: signed-in risk managers, agents and administrators only)")},
			Produces: "text/html", OperationID: "get_carte_page", Handler: s.mapPage},
	}
}

// locationMapView is what a form that asks for a place draws: a small map
// (map.js without layers) whose click fills the latitude and longitude
// fields, and the communes of the Alpes-Maritimes for the commune field's
// suggestions (a <datalist>: it needs no script).
type locationMapView struct {
	Styles, Scripts []string
	MapJS           string
	Options         mapOptions
	Communes        []string
}

func (s *Pages) locationMap() locationMapView {
	v := locationMapView{MapJS: "/static/" + assets.URL("map.js"),
		Options: mapOptions{BaseMap: "/static/" + assets.URL(assets.BaseMap), Links: mapLinks}}
	if s.cfg.Tiles.URL != "" {
		t := s.cfg.Tiles
		v.Options.Tiles = &t
	}
	for _, n := range assets.MapStyles {
		v.Styles = append(v.Styles, "/static/"+assets.URL(n))
	}
	for _, n := range assets.MapScripts[:len(assets.MapScripts)-1] {
		v.Scripts = append(v.Scripts, "/static/"+assets.URL(n))
	}
	for _, c := range assets.Communes() {
		v.Communes = append(v.Communes, c.Name)
	}
	sort.Strings(v.Communes)
	return v
}

// placeView is a proposal's location on its page: the position, a small
// map (map.js) and the sensors within app.NearbyRadius.
type placeView struct {
	Lat, Lon string
	CarteURL string // the /carte view centred on it
	Nearby   []nearbyRow
	Map      locationMapView
	Doc      *app.MapDocument // the proposal alone
	View     map[string]float64
}

type nearbyRow struct{ ID, Model, SiteName, Distance string }

// smallMapArgs is the small-map template's argument (small_map.html): the
// place and the page's nonce (the template's funcs give it: smallMap).
type smallMapArgs struct {
	Nonce string
	P     *placeView
}

// sitePlace is site's place on its page: the position, and the small map
// of the proposal page (locationMap, small-map) with devices at the site.
func (s *Pages) sitePlace(site *civic.Site, devices []*civic.Device) *placeView {
	mv := &app.MapView{Generated: s.now().UTC()}
	for _, d := range devices {
		mv.Sensors = append(mv.Sensors, app.MapSensor{Device: d, Site: site, Latest: []*series.Latest{}})
	}
	return &placeView{Lat: fr.Num(site.Location.Lat), Lon: fr.Num(site.Location.Lon), Map: s.locationMap(),
		CarteURL: fmt.Sprintf("/carte#v=%.5f,%.5f,15", site.Location.Lat, site.Location.Lon), Doc: mv.Document(),
		View: map[string]float64{"lat": site.Location.Lat, "lon": site.Location.Lon, "zoom": 15}}
}

// placeOf is p's place, nil without a location.
func (s *Pages) placeOf(c *fiber.Ctx, p *civic.Proposal) (*placeView, error) {
	if p.Location == nil {
		return nil, nil
	}
	near, err := s.maps.Nearby(ctx(c), *p.Location, app.NearbyRadius)
	if err != nil {
		return nil, err
	}
	pv := &placeView{Lat: fr.Num(p.Location.Lat), Lon: fr.Num(p.Location.Lon), Map: s.locationMap(),
		CarteURL: fmt.Sprintf("/carte#v=%.5f,%.5f,14", p.Location.Lat, p.Location.Lon),
		Doc:      (&app.MapView{Generated: s.now().UTC(), Proposals: []*civic.Proposal{p}}).Document(),
		View:     map[string]float64{"lat": p.Location.Lat, "lon": p.Location.Lon, "zoom": 14}}
	for _, d := range near {
		dist := strconv.Itoa(int(d.DistanceM+0.5)) + "\u00a0m"
		if d.DistanceM >= 1000 {
			dist = fr.Num(float64(int(d.DistanceM/10+0.5))/100) + "\u00a0km"
		}
		pv.Nearby = append(pv.Nearby, nearbyRow{ID: d.ID, Model: d.Model, SiteName: d.SiteName, Distance: dist})
	}
	return pv, nil
}

// sensorStateFR is a sensor's state as the map's list names it: the
// registry's word (deviceStatusFR, registry.go) with a capital, nothing
// for a device that never reported.
func sensorStateFR(status string) string {
	w := deviceStatusFR[status]
	if w == "" || status == "unknown" {
		return ""
	}
	return strings.ToUpper(w[:1]) + w[1:]
}
