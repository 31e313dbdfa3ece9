// Package alerting is the risk managers' alert domain: rules on the French
// vigilance scale (jaune, orange, rouge) that watch a series or a quantity
// over a set of devices, alerts with their lifecycle (active → acknowledged
// → cleared → closed, every transition kept with who and when), the
// deterministic evaluation core (Step), and the evaluator service that feeds
// it readings, device statuses, silences and ATMO indices, keeps its state in
// the relational store and sends the notifications (retained MQTT messages,
// signed webhooks, grouped French e-mail).
//
// It imports no adapter and no external system's client: the store, the
// InfluxDB reader, the MQTT publisher and the mailer are interfaces declared
// here (store.go) and passed by the wiring (cmd/internal/alertsd). See
// docs/alerts.md.
package alerting

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
)

// Errors of the domain. Callers test them with errors.Is.
var (
	// ErrInvalid means a rule, a filter or an action is not acceptable; the
	// message says which field.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound means no rule or alert has that id.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the state or the alert changed meanwhile (another
	// replica took the transition): reload and decide again.
	ErrConflict = errors.New("conflict")
	// ErrTransition means the lifecycle does not allow the action (acknowledge
	// a closed alert, close an active one).
	ErrTransition = errors.New("transition not allowed")
)

// Severity is a level of the vigilance scale.
type Severity string

// The vigilance levels, from the least to the most severe.
const (
	Jaune  Severity = "jaune"
	Orange Severity = "orange"
	Rouge  Severity = "rouge"
)

// Rank orders severities: jaune 1, orange 2, rouge 3, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case Jaune:
		return 1
	case Orange:
		return 2
	case Rouge:
		return 3
	}
	return 0
}

// Label is the French words pages and mails show ("vigilance orange"):
// always the word with the colour, never the colour alone.
func (s Severity) Label() string { return "vigilance " + string(s) }

// Kind is what a rule watches.
type Kind string

// Rule kinds.
const (
	// Above fires when a value is at or above a level's threshold for Hold,
	// and clears when it falls below the level's Clear.
	Above Kind = "above"
	// Below fires when a value is at or below the threshold for Hold, and
	// clears when it rises above Clear.
	Below Kind = "below"
	// Rate fires when a value rose by at least the threshold (positive) or
	// fell by at least its absolute value (negative) within Window: the
	// latest value minus the lowest (highest) of the window.
	Rate Kind = "rate"
	// NoData fires when a series has been silent for Hold.
	NoData Kind = "no_data"
	// Offline fires when a device's retained status has said offline for
	// Hold; the series selector's quantity is ignored.
	Offline Kind = "offline"
	// Atmo fires when a site's ATMO index of the day is at or above the
	// level's class (its threshold, 1…6), and clears below Clear.
	Atmo Kind = "atmo"
)

// Level is one severity of a rule with its thresholds.
type Level struct {
	Severity Severity `json:"severity"`
	// Threshold triggers the level (unit of the series; a class 1…6 for
	// Atmo; unused for NoData and Offline).
	Threshold float64 `json:"threshold"`
	// Clear ends the alert (hysteresis); it defaults to Threshold.
	Clear *float64 `json:"clear,omitempty"`
}

// ClearValue returns Clear, or Threshold when none is set.
func (l Level) ClearValue() float64 {
	if l.Clear != nil {
		return *l.Clear
	}
	return l.Threshold
}

// Rule is an alert rule.
type Rule struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Enabled rules are evaluated; a disabled rule keeps its alerts.
	Enabled bool `json:"enabled"`
	// Site, Device and Quantity select the series watched; an empty Site
	// or Device matches every one (every pm10 of the département), Quantity
	// is required except for Offline and Atmo.
	Site     string `json:"site,omitempty"`
	Device   string `json:"device,omitempty"`
	Quantity string `json:"quantity,omitempty"`
	Kind     Kind   `json:"kind"`
	// Hold is how long the condition must last before the alert fires
	// (Above, Below, Offline) or the silence that fires it (NoData).
	Hold time.Duration `json:"hold"`
	// Window is Rate's window.
	Window time.Duration `json:"window,omitempty"`
	// Levels are the rule's severities, at least one, at most one each.
	Levels    []Level   `json:"levels"`
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Limits of a rule.
const (
	MaxNameLen = 200
	MaxHold    = 7 * 24 * time.Hour
	MaxWindow  = 24 * time.Hour
	// MaxThreshold bounds a threshold's magnitude: no sensor reads beyond
	// it, and a huge number would only hide a typing error.
	MaxThreshold = 1e9
)

// Validate checks a rule and fills its defaults; errors wrap ErrInvalid and
// name the field.
func (r *Rule) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || len([]rune(r.Name)) > MaxNameLen {
		return bad("name: 1 to %d characters", MaxNameLen)
	}
	if strings.IndexFunc(r.Name, unicode.IsControl) >= 0 {
		return bad("name: no control characters")
	}
	if r.Site != "" && !smartdeal.ValidID(r.Site) {
		return bad("site: not an identifier")
	}
	if r.Device != "" && !smartdeal.ValidID(r.Device) {
		return bad("device: not an identifier")
	}
	switch r.Kind {
	case Above, Below, Rate, NoData:
		if !smartdeal.ValidQuantity(r.Quantity) {
			return bad("quantity: required, a quantity name such as water_level")
		}
	case Offline:
		r.Quantity = ""
	case Atmo:
		if r.Site == "" && r.Device != "" {
			return bad("device: an ATMO rule watches sites")
		}
		r.Device, r.Quantity = "", ""
	default:
		return bad("kind: want above, below, rate, no_data, offline or atmo")
	}
	if r.Hold < 0 || r.Hold > MaxHold {
		return bad("hold: 0 to %s", MaxHold)
	}
	if r.Kind == NoData && r.Hold < time.Second {
		return bad("hold: the silence of a no_data rule, at least 1s")
	}
	if r.Kind == Rate {
		if r.Window < time.Second || r.Window > MaxWindow {
			return bad("window: 1s to %s", MaxWindow)
		}
	} else {
		r.Window = 0
	}
	if len(r.Levels) == 0 || len(r.Levels) > 3 {
		return bad("levels: one to three (jaune, orange, rouge)")
	}
	seen := map[Severity]bool{}
	for i := range r.Levels {
		l := &r.Levels[i]
		if l.Severity.Rank() == 0 || seen[l.Severity] {
			return bad("levels[%d].severity: jaune, orange or rouge, each at most once", i)
		}
		seen[l.Severity] = true
		if math.IsNaN(l.Threshold) || math.IsInf(l.Threshold, 0) || (l.Clear != nil && (math.IsNaN(*l.Clear) || math.IsInf(*l.Clear, 0))) {
			return bad("levels[%d]: thresholds must be numbers", i)
		}
		if math.Abs(l.Threshold) > MaxThreshold || (l.Clear != nil && math.Abs(*l.Clear) > MaxThreshold) {
			return bad("levels[%d].threshold: at most %g in magnitude", i, float64(MaxThreshold))
		}
		c := l.ClearValue()
		switch r.Kind {
		case Above:
			if c > l.Threshold {
				return bad("levels[%d].clear: at most the threshold (%g) for a rule above", i, l.Threshold)
			}
		case Below:
			if c < l.Threshold {
				return bad("levels[%d].clear: at least the threshold (%g) for a rule below", i, l.Threshold)
			}
		case Rate:
			if l.Threshold == 0 || math.Abs(c) > math.Abs(l.Threshold) || c*l.Threshold < 0 {
				return bad("levels[%d]: a rise (> 0) or a fall (< 0), clear of the same sign and not beyond", i)
			}
		case Atmo:
			if l.Threshold != math.Trunc(l.Threshold) || !atmo.Class(l.Threshold).Valid() || c > l.Threshold || c < 1 {
				return bad("levels[%d].threshold: an ATMO class 1…6, clear at most that class", i)
			}
		case NoData, Offline:
			l.Threshold, l.Clear = 0, nil
		}
	}
	return nil
}

// Matches reports whether the rule watches series (site, device, quantity).
func (r *Rule) Matches(site, device, quantity string) bool {
	return (r.Site == "" || r.Site == site) && (r.Device == "" || r.Device == device) &&
		(r.Quantity == "" || r.Quantity == quantity)
}

// Status is where an alert is in its lifecycle.
type Status string

// The lifecycle: active → acknowledged → cleared → closed; an active alert
// may also clear before anyone acknowledged it.
const (
	Active       Status = "active"
	Acknowledged Status = "acknowledged"
	Cleared      Status = "cleared"
	Closed       Status = "closed"
)

// Label is the status in French.
func (s Status) Label() string {
	switch s {
	case Active:
		return "en cours"
	case Acknowledged:
		return "prise en compte"
	case Cleared:
		return "terminée"
	case Closed:
		return "close"
	}
	return string(s)
}

// Open reports whether the condition of an alert in this status is still
// on (it has not cleared): the rule does not fire again for its series and
// level meanwhile.
func (s Status) Open() bool { return s == Active || s == Acknowledged }

// Alert is one firing of one level of a rule on one series.
type Alert struct {
	ID       string   `json:"id"`
	RuleID   string   `json:"rule_id"`
	RuleName string   `json:"rule_name"`
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Series is what fired; for Offline its quantity is "status", for Atmo
	// "atmo" with the site's id as device.
	Series smartdeal.Series `json:"series"`
	Status Status           `json:"status"`
	// Threshold is the level's threshold when it fired, Value the reading
	// that fired it, Peak the furthest beyond the threshold among the
	// triggering readings (From to FiredAt; later readings are not
	// written, see docs/alerts.md).
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Peak      float64 `json:"peak"`
	// From and To are the times of the readings that triggered it: the
	// first beyond the threshold, and the one that fired (To is the time the
	// condition was met, FiredAt).
	From    time.Time `json:"from"`
	FiredAt time.Time `json:"fired_at"`
	// Recorded is when the evaluator recorded it. Past is true when the
	// condition was met well before (late readings, a gateway emptying its
	// spool): the alert belongs to the past and is not announced as
	// happening now.
	Recorded time.Time `json:"recorded"`
	Past     bool      `json:"past"`
	// Acknowledgement.
	AckBy      string     `json:"ack_by,omitempty"`
	AckAt      *time.Time `json:"ack_at,omitempty"`
	AckComment string     `json:"ack_comment,omitempty"`
	// ConditionEnd is the time of the reading that ended the condition,
	// ClearedAt when the evaluator recorded it.
	ConditionEnd *time.Time `json:"condition_end,omitempty"`
	ClearedAt    *time.Time `json:"cleared_at,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	ClosedBy     string     `json:"closed_by,omitempty"`
	// Version counts the alert's changes (compare-and-set).
	Version int64 `json:"version"`
}

// Transition is one step of an alert's lifecycle.
type Transition struct {
	AlertID string `json:"alert_id"`
	// From is empty for the firing.
	From    Status    `json:"from,omitempty"`
	To      Status    `json:"to"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
}

// Evaluator is the By of the transitions the evaluator takes.
const Evaluator = "evaluateur"

// MaxCommentLen bounds an acknowledgement's comment.
const MaxCommentLen = 2000
