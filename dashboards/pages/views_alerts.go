package pages

import (
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/pages/chart"
)

// The typed views of the risk managers' pages (alerts.go).

// badge is a vigilance level or a site state: its word, and a CSS class
// for its colour and its icon (drawn before the word, without alternative
// text: the word says it).
type badge struct{ Word, Class string }

// atmoView is an ATMO index as the pages say it.
type atmoView struct {
	Day                  string
	Class                int
	Label, Colour        string
	Provisional, Partial bool
	Dominant, Missing    []string
}

// latestValue is a series' latest value with its age.
type latestValue struct {
	Device, Quantity, Value, Unit, Age, At string
	Stale                                  bool // older than an hour
}

// dashSiteRow is a site on the dashboard.
type dashSiteRow struct {
	ID, Name                 string
	State                    badge
	Atmo                     *atmoView
	Values                   []latestValue
	Offline, Devices, Alerts int
}

// alertRow is an alert in a list or on its page.
type alertRow struct {
	ID, RuleID, Rule                         string
	Level                                    badge
	Status                                   string
	Site, Device, Quantity, Value, Threshold string
	Unit, Fired, Age, Acked, Cleared         string
	AckComment                               string
	Past, CanAck, CanClose                   bool
}

type dashMission struct {
	ID, Title, Site, Drone, DroneState, Seen, Started string
}

type stateCount struct {
	State badge
	N     int
}

// dashboardView is tableau-de-bord.html.
type dashboardView struct {
	Page
	Generated            string
	Counts               [6]stateCount // by app.SiteState.Rank
	Sites                []dashSiteRow
	Open, Recent         []alertRow
	Missions             []dashMission
	LatestDown, AtmoDown bool
	CanManage            bool // may acknowledge (the forms are shown)
}

// alertsView is alertes.html.
type alertsView struct {
	Page
	Open, Recent []alertRow
	CanManage    bool
}

type transitionRow struct{ At, To, By, Comment string }

// alertView is alerte.html.
type alertView struct {
	Page
	A                        alertRow
	From, Peak, ConditionEnd string
	SeriesLink               string // the readings around the firing (JSON); "" for offline and ATMO alerts
	Transitions              []transitionRow
	CanManage                bool
	Comment                  string // the comment of a refused form
}

type ruleLevel struct {
	Level badge
	Text  string
}

type ruleRow struct {
	ID, Name, Kind, Watch string
	Enabled, Subscribed   bool // Subscribed: the caller receives its alerts by e-mail
	Levels                []ruleLevel
}

// rulesView is regles.html.
type rulesView struct {
	Page
	Rules         []ruleRow
	CanManage     bool
	Subscriptions []subscriptionRow // the caller's
}

// ruleDraft is the rule form's values as typed.
type ruleDraft struct {
	ID, Name, Site, Device, Quantity, Kind, Hold, Window string
	Enabled                                              bool
	Thresholds, Clears                                   map[string]string // by severity
}

type ruleKindOption struct {
	Value, Label string
	Selected     bool
}

type levelInput struct {
	Severity         string
	Level            badge
	Threshold, Clear string
}

type previewRow struct {
	Level                    badge
	Series, At, Value, Until string
}

type previewView struct {
	Count, Series int
	Truncated     bool
	Firings       []previewRow
}

// ruleView is regle.html: the form of a new or stored rule, with the
// refused field's message beside it (Field, FieldMsg) or a preview.
type ruleView struct {
	Page
	Draft           ruleDraft
	Action          string
	Kinds           []ruleKindOption
	Levels          []levelInput
	Field, FieldMsg string
	Preview         *previewView
	Subscribed      bool // a stored rule's: the caller receives its alerts by e-mail
}

// ruleFieldView is one input of the rule form: its label, help and, when
// the post was refused for it, the French message shown beside it.
type ruleFieldView struct {
	ID, Label, Help, Msg string
	Invalid              bool
}

// fieldOf is the template function that dresses an input of regle.html.
func fieldOf(v *ruleView, field, id, label, help string) ruleFieldView {
	f := ruleFieldView{ID: id, Label: label, Help: help}
	if v.Field == field {
		f.Invalid, f.Msg = true, v.FieldMsg
	}
	return f
}

type sitePeriod struct {
	Value, Label string
	Span         time.Duration
}

type periodLink struct {
	Label, Href string
	Current     bool
}

type dashDeviceRow struct {
	ID, Model, Kind, Status, Seen, Href string
	Offline, Current                    bool
}

// siteView is site.html: a site's page, or one device's (Device).
type siteView struct {
	Page
	Site                            *civic.Site
	Device                          string
	SiteLink                        string
	Period, From, To                string
	Periods                         []periodLink
	Devices                         []dashDeviceRow
	Charts                          []chart.View
	Alerts                          []alertRow
	Atmo                            *atmoView
	SeriesDown, AtmoDown, Truncated bool
	Place                           *placeView        // the site and its devices on a small map (sitePlace)
	Here                            string            // this page's path, where the subscription forms return
	Subscribed                      bool              // the caller receives the site's alerts by e-mail
	StatusHistory                   []statusChangeRow // the device page's, newest first
}

// statusChangeRow is one transition of a device's status (site.html).
type statusChangeRow struct {
	Status, At, Age string
	Offline         bool
}

// siteAtmo is a site's ATMO index of the day on a proposal page.
type siteAtmo struct {
	Site string
	Atmo atmoView
}
