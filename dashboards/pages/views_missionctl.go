package pages

import (
	"html/template"

	"github.com/cd06/smartdeal/dashboards/actions"
)

// The typed views of the mission control pages (missionctl.go).

// missionPlanForm is what the plan form shows: the values typed (kept
// after a refusal), the choices and the input in error.
type missionPlanForm struct {
	Title, Kind, Area, Drawn, From, To, DroneID, Agent string
	AgentID                                            string // the agent chosen in the list
	ProposalIDs                                        map[string]bool
	Field                                              string // id of the invalid input, if any
	Kinds                                              []missionChoice
	Drones                                             []missionChoice
	Proposals                                          []missionChoice
	// Agents are the field agents' accounts to choose from, unless
	// ManyAgents (more than agentListMax): the form then asks for an e-mail address.
	Agents     []missionChoice
	ManyAgents bool
}

// missionChoice is an option of a select.
type missionChoice struct{ Value, Label string }

// missionPlanView is mission_plan.html.
type missionPlanView struct {
	Page
	Form   missionPlanForm
	Assets missionAssets
}

// missionAssets are the URLs of the map's front end (dashboards/assets).
type missionAssets struct {
	Styles  []string
	Scripts []string // classic scripts (Leaflet), before the module
	Module  string   // mission.js
	MapJS   string   // map.js
	BaseMap string
}

// missionStepView is mission_step.html: the confirmation of a start, a
// completion or an abort.
type missionStepView struct {
	Page
	M        missionRow
	Action   string // demarrer, terminer, interrompre
	Verb     string // "Démarrer", …
	Question string
	Warning  string // starting outside the planned window
}

// flightLogPageView is mission_journal.html: the upload form, then its
// result or its refusal.
type flightLogPageView struct {
	Page
	M       missionRow
	Action  template.URL // the form's action, with the CSRF token (a streamed body's fields come after the guard)
	Limit   string
	Result  *flightLogResult
	Refusal *flightLogRefusal
}

// flightLogResult is an import's result in French.
type flightLogResult struct {
	Readings, Window, LogSpan, Outside, Dropped, Packs string
	Quantities                                         []flightLogQuantity
	Vehicles                                           string
	Truncated                                          string // where the log was cut, "" when whole
	Raw                                                *actions.FlightLogResult
}

type flightLogQuantity struct {
	Name, Count string
}

// flightLogRefusal says why a log was refused.
type flightLogRefusal struct {
	Reason            string // outside_window, not_a_flight_log, or ""
	Message           string
	LogSpan, Window   string // outside_window
	Truncated, Detail string
}

// missionLive is the live panel of a mission in flight: the latest fix of
// its track (what a page without JavaScript shows; the script updates it).
type missionLive struct {
	Series               string // the live feed's series parameter
	Time, Lat, Lon       string
	Altitude, Battery    string
	HasFix, Operable     bool
	SiteID, DroneID, Mis string
}

// missionStepLink is a link of the mission page to a step's confirmation.
type missionStepLink struct{ Action, Label string }
