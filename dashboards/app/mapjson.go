package app

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/simplify"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// GeoJSONType is the media type of GeoJSON (RFC 7946).
const GeoJSONType = "application/geo+json"

// MapDocumentVersion is the version of the map document's schema
// (docs/map.md); a change that breaks map.js increments it.
const MapDocumentVersion = 1

// TrackTolerance is how far (in degrees, ~3 m) a track drawn on the map
// may stray from the fixes: Douglas–Peucker drops the fixes of straight
// legs, which a survey's transects are mostly made of.
const TrackTolerance = 0.00003

// MapDocument is the map document map.js reads (docs/map.md): GeoJSON
// feature collections per layer, with what the filters and the legend need.
type MapDocument struct {
	Version   int                        `json:"version"`
	Generated time.Time                  `json:"generated"`
	Campaigns []MapName                  `json:"campaigns"`
	Themes    []MapName                  `json:"themes"`
	Proposals *geojson.FeatureCollection `json:"proposals"`
	Sensors   *geojson.FeatureCollection `json:"sensors"`
	Missions  *geojson.FeatureCollection `json:"missions"`
	Drones    []MapDroneJSON             `json:"drones"`
	// Quantities are the quantities' names for the filter (optional: the
	// page sets them, in French).
	Quantities map[string]string `json:"quantities,omitempty"`
	// Units are the units' symbols for the popups (optional, as Quantities).
	Units map[string]string `json:"units,omitempty"`
	// Partial names what InfluxDB could not give ("latest", "tracks").
	Partial []string `json:"partial,omitempty"`
	// Alerts are the open alerts, for the signed-in risk managers, agents
	// and administrators only (the page sets them): absent for others.
	Alerts []MapAlertJSON `json:"alerts,omitempty"`
}

// MapAlertJSON is an open alert at its device's (else its site's)
// position in the map document, its words in French.
type MapAlertJSON struct {
	ID       string  `json:"id"`
	Severity string  `json:"severity"` // jaune, orange, rouge
	Level    string  `json:"level"`    // "vigilance orange"
	Rule     string  `json:"rule"`
	Site     string  `json:"site"`
	Device   string  `json:"device"`
	What     string  `json:"what"` // "Niveau d'eau 2,8 m (seuil 2,5 m)"
	Fired    string  `json:"fired"`
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
}

// MapName is an id with its French name.
type MapName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// MapDroneJSON is a drone in flight in the map document.
type MapDroneJSON struct {
	Site         string     `json:"site"`
	Device       string     `json:"device"`
	Mission      string     `json:"mission"`
	MissionTitle string     `json:"mission_title,omitempty"`
	Lat          float64    `json:"lat"`
	Lon          float64    `json:"lon"`
	Time         *time.Time `json:"time,omitempty"`
}

// MapLatestJSON is a sensor's latest reading in the map document.
type MapLatestJSON struct {
	Quantity string    `json:"quantity"`
	Value    float64   `json:"value"`
	Unit     string    `json:"unit,omitempty"`
	Time     time.Time `json:"time"`
}

// Document builds v's map document.
func (v *MapView) Document() *MapDocument {
	doc := &MapDocument{Version: MapDocumentVersion, Generated: v.Generated, Campaigns: []MapName{}, Themes: []MapName{},
		Proposals: ProposalFeatures(v.Proposals), Sensors: geojson.NewFeatureCollection(), Missions: geojson.NewFeatureCollection(), Drones: []MapDroneJSON{}}
	for _, c := range v.Campaigns {
		doc.Campaigns = append(doc.Campaigns, MapName{ID: c.ID, Name: c.Name})
	}
	for _, t := range v.Themes {
		doc.Themes = append(doc.Themes, MapName{ID: t.ID, Name: t.NameFR})
	}
	for _, s := range v.Sensors {
		f := geojson.NewFeature(orb.Point{s.Site.Location.Lon, s.Site.Location.Lat})
		f.ID = s.Device.ID
		qs := make([]string, 0, len(s.Device.Quantities))
		for _, q := range s.Device.Quantities {
			qs = append(qs, q.Quantity)
		}
		latest := make([]MapLatestJSON, 0, len(s.Latest))
		for _, l := range s.Latest {
			latest = append(latest, MapLatestJSON{Quantity: l.Quantity, Value: l.Value, Unit: l.Unit, Time: l.Time.UTC()})
		}
		f.Properties = geojson.Properties{"site": s.Site.ID, "site_name": s.Site.Name, "model": s.Device.Model,
			"status": s.Device.Status, "quantities": qs, "latest": latest}
		if s.Device.LastSeen != nil {
			f.Properties["last_seen"] = s.Device.LastSeen.UTC()
		}
		if s.Atmo > 0 {
			f.Properties["atmo"] = s.Atmo
		}
		doc.Sensors.Append(f)
	}
	for _, mm := range v.Missions {
		ms := mm.Mission
		props := func(kind string) geojson.Properties {
			return geojson.Properties{"kind": kind, "mission": ms.ID, "title": ms.Title, "mission_kind": ms.Kind,
				"status": string(ms.Status), "site": ms.SiteID, "drone": ms.DroneID}
		}
		if g := areaGeometry(ms.Area); g != nil {
			f := geojson.NewFeature(g)
			f.ID = ms.ID
			f.Properties = props("area")
			doc.Missions.Append(f)
		}
		if t := mm.Track; t != nil && len(t.Points) >= 2 {
			line := make(orb.LineString, 0, len(t.Points))
			for _, p := range t.Points {
				line = append(line, orb.Point{p.Lon, p.Lat})
			}
			f := geojson.NewFeature(simplify.DouglasPeucker(TrackTolerance).LineString(line))
			f.ID = ms.ID + "/track"
			f.Properties = props("track")
			f.Properties["distance_m"] = math.Round(t.DistanceM)
			f.Properties["duration_s"] = t.DurationS
			f.Properties["fixes"] = len(t.Points)
			doc.Missions.Append(f)
		}
	}
	for _, d := range v.Drones {
		j := MapDroneJSON{Site: d.Site, Device: d.Device, Mission: d.Mission, MissionTitle: d.Title, Lat: d.Lat, Lon: d.Lon}
		if !d.Time.IsZero() {
			t := d.Time.UTC()
			j.Time = &t
		}
		doc.Drones = append(doc.Drones, j)
	}
	if v.LatestErr != nil {
		doc.Partial = append(doc.Partial, "latest")
	}
	if v.TracksErr != nil {
		doc.Partial = append(doc.Partial, "tracks")
	}
	return doc
}

// EncodeMap writes v's map document as JSON (the map page embeds it or
// serves it as application/json).
func EncodeMap(w io.Writer, v *MapView) error {
	if err := json.NewEncoder(w).Encode(v.Document()); err != nil {
		return fmt.Errorf("map document: %w", err)
	}
	return nil
}

// ProposalFeatures is the GeoJSON of proposals with a location (the others
// are left out): one Point feature each, id the proposal's, properties its
// public fields (title, theme, campaign, status, votes, estimated cost,
// created). Only public proposals should be given (MapView's are).
func ProposalFeatures(ps []*civic.Proposal) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, p := range ps {
		if p.Location == nil {
			continue
		}
		f := geojson.NewFeature(orb.Point{p.Location.Lon, p.Location.Lat})
		f.ID = p.ID
		f.Properties = geojson.Properties{"title": p.Title, "theme": p.ThemeID, "campaign": p.CampaignID,
			"status": string(p.Status), "votes": p.Votes, "estimated_cost_eur": p.EstimatedCostEUR, "created": p.Created.UTC()}
		fc.Append(f)
	}
	return fc
}

// EncodeProposalsGeoJSON writes the public proposals of v with their
// location as a GeoJSON FeatureCollection (/opendata/proposals.geojson,
// served as GeoJSONType).
func EncodeProposalsGeoJSON(w io.Writer, v *MapView) error {
	if err := json.NewEncoder(w).Encode(ProposalFeatures(v.Proposals)); err != nil {
		return fmt.Errorf("proposals GeoJSON: %w", err)
	}
	return nil
}

// areaGeometry is a mission's area: a GeoJSON Polygon, or a Feature whose
// geometry is one (civic.ValidatePolygon takes both); nil for anything
// else, which the map leaves out.
func areaGeometry(raw json.RawMessage) orb.Geometry {
	if g, err := geojson.UnmarshalGeometry(raw); err == nil && g.Geometry() != nil {
		return g.Geometry()
	}
	if f, err := geojson.UnmarshalFeature(raw); err == nil && f.Geometry != nil {
		return f.Geometry
	}
	return nil
}
