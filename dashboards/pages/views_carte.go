package pages

import "html/template"

// mapPageView is carte.html: the map page, its no-JavaScript filter form
// and its list alternative.
type mapPageView struct {
	Page
	Styles, Scripts                         []string // the map's stylesheets and classic scripts (hashed /static/ URLs)
	MapJS                                   string   // map.js, imported by the page's module
	Options                                 mapOptions
	Doc                                     template.JS // the map document (app.MapDocument) as JSON, embedded for map.js
	Fragment                                string      // the query's filters as map.js's URL fragment ("" for none)
	Partial                                 bool        // InfluxDB could not give the latest values or the tracks
	Layers                                  []mapCheck
	Campaigns, Themes, Statuses, Quantities []mapChoice
	Proposals                               []mapProposalRow
	Sensors                                 []mapSensorRow
	Missions                                []mapMissionRow
	Drones                                  []mapDroneRow
	Shown                                   mapCounts // items the filters keep, per layer
	// Alerts are the open alerts (carte_alerts.go); AlertsLayer says the
	// visitor may see them (the layer, its checkbox and its list exist).
	Alerts      []mapAlertRow
	AlertsLayer bool
}

// mapOptions are map.js's createMap options (JSON).
type mapOptions struct {
	BaseMap string            `json:"baseMap"`
	Tiles   *Tiles            `json:"tiles,omitempty"`
	Live    string            `json:"live"`
	Links   map[string]string `json:"links"`
}

type mapCheck struct {
	Name, Label string
	Checked     bool
}

type mapChoice struct {
	Value, Label string
	Selected     bool
}

type mapCounts struct{ Proposals, Sensors, Missions, Drones, Alerts int }

// The list alternative's items; Hidden when the query's filters exclude
// them (the page's script shows and hides them as map.js filters).
type mapProposalRow struct {
	ID, Title, Theme, Campaign, Status, StatusFR, Lat, Lon string
	ThemeN, Votes                                          int
	Hidden                                                 bool
}

type mapSensorRow struct {
	ID, Site, SiteName, Model, State, Atmo string
	Quantities                             []string
	Latest                                 []mapValue
	Hidden                                 bool
}

type mapValue struct{ Quantity, Value, When string }

type mapMissionRow struct {
	ID, Title, Kind, Status, Site, Track string
	Hidden                               bool
}

type mapDroneRow struct {
	Key, Device, Mission, Title, Position, When string
	Hidden                                      bool
}

// mapAlertRow is an open alert in the list alternative; Position is ""
// when the map does not know where its site is (then it is not drawn).
type mapAlertRow struct {
	ID, Rule, Site, Device, What, Fired, Position string
	Level                                         badge
	Hidden                                        bool
}
