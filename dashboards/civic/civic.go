// Package civic is the citizen-side domain of the SMART Deal platform: users and
// roles, themes, campaigns and their budget, proposals with their workflow, votes,
// comments, expert reviews, missions, sites and devices, and the links from
// proposals and missions to measurement series. It holds types, rules and the
// service interfaces that storage adapters implement (sqlstore) and the HTTP
// layer consumes (api), in the style of WTF Dial: no dependency beyond the
// standard library, the root smartdeal package and, for mission areas, the
// GeoJSON library it wraps (github.com/paulmach/orb; only the API links it).
package civic

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a user may do.
type Role string

// The five roles of the SMART Deal.
const (
	RoleCitizen     Role = "citizen"
	RoleExpert      Role = "expert"
	RoleAgent       Role = "agent"
	RoleRiskManager Role = "risk_manager"
	RoleAdmin       Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleCitizen, RoleExpert, RoleAgent, RoleRiskManager, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// In reports whether r is one of roles.
func (r Role) In(roles ...Role) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"`
	Created      time.Time `json:"created"`
	// EmailVerified is when the current address was verified (a link sent
	// to it was followed); nil until then.
	EmailVerified *time.Time `json:"email_verified,omitempty"`
	// Assurance is the level a stronger identity check granted (0: none);
	// Level() is what routes compare. AssuranceBy names the method.
	Assurance   Assurance `json:"assurance"`
	AssuranceBy string    `json:"assurance_by,omitempty"`
	// Blocked is when an administrator blocked the account (nil: not
	// blocked): it cannot sign in and its sessions are refused (people.go).
	Blocked *time.Time `json:"blocked,omitempty"`
}

// Theme is a proposal category. The five SMART Deal themes are seeded.
type Theme struct {
	ID     string `json:"id"`
	NameFR string `json:"name_fr"`
	NameEN string `json:"name_en"`
}

// SeedThemes are the five themes of the SMART Deal, French names as the
// département writes them.
var SeedThemes = []Theme{
	{ID: "economie-tourisme", NameFR: "Développement économique et touristique", NameEN: "Economic and tourism development"},
	{ID: "securite", NameFR: "Sécurité", NameEN: "Security"},
	{ID: "sante-solidarite", NameFR: "Santé et solidarité", NameEN: "Health and solidarity"},
	{ID: "education-sport-culture", NameFR: "Éducation, sport et culture", NameEN: "Education, sport and culture"},
	{ID: "environnement-risques", NameFR: "Environnement, aménagement du territoire et gestion des risques", NameEN: "Environment, land planning and risk management"},
}

// CampaignKind says who submits: citizens (ideas) or organisations (digital projects).
type CampaignKind string

// Campaign kinds.
const (
	CampaignIdeas    CampaignKind = "ideas"
	CampaignProjects CampaignKind = "projects"
)

// DefaultBudgetEUR is a campaign's budget when none is given: 1,000,000 €.
const DefaultBudgetEUR int64 = 1_000_000

// Campaign is a call for proposals with a period and a budget.
type Campaign struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Kind      CampaignKind `json:"kind"`
	Starts    time.Time    `json:"starts"`
	Ends      time.Time    `json:"ends"`
	BudgetEUR int64        `json:"budget_eur"`
	// ShortlistTopN shortlists the N most-voted published proposals of each
	// theme (0: rule not used).
	ShortlistTopN int `json:"shortlist_top_n"`
	// ShortlistMinVotes shortlists every published proposal with at least
	// this many votes (0: rule not used).
	ShortlistMinVotes int       `json:"shortlist_min_votes"`
	Created           time.Time `json:"created"`
}

// Validate checks a campaign before it is stored, filling defaults.
func (c *Campaign) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if err := checkText("name", c.Name, 1, 200); err != nil {
		return err
	}
	if c.Kind == "" {
		c.Kind = CampaignIdeas
	}
	if c.Kind != CampaignIdeas && c.Kind != CampaignProjects {
		return FieldError("kind", "want %q or %q", CampaignIdeas, CampaignProjects)
	}
	if c.BudgetEUR == 0 {
		c.BudgetEUR = DefaultBudgetEUR
	}
	if c.BudgetEUR < 0 || c.BudgetEUR > 1e12 {
		return FieldError("budget_eur", "must be between 1 and 10^12")
	}
	if c.Starts.IsZero() || c.Ends.IsZero() || !c.Ends.After(c.Starts) {
		return FieldError("ends", "the period needs starts < ends")
	}
	if c.ShortlistTopN < 0 || c.ShortlistMinVotes < 0 {
		return FieldError("shortlist_top_n", "must not be negative")
	}
	return nil
}

// Open reports whether t falls within the campaign's period.
func (c *Campaign) Open(t time.Time) bool { return !t.Before(c.Starts) && t.Before(c.Ends) }

// Point is a WGS84 position.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Validate checks the coordinate ranges.
func (p Point) Validate(field string) error {
	if !(p.Lat >= -90 && p.Lat <= 90) || !(p.Lon >= -180 && p.Lon <= 180) {
		return FieldError(field, "latitude must be in [-90,90] and longitude in [-180,180]")
	}
	return nil
}

// AuditEntry records a sensitive action.
type AuditEntry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"` // user id, "" for anonymous
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

var idEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random identifier of 16 lowercase characters that is also a
// valid smartdeal identifier (usable in MQTT topics and InfluxDB tags).
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return idEnc.EncodeToString(b[:])
}

func checkText(field, s string, minLen, maxLen int) error {
	if !utf8.ValidString(s) {
		return FieldError(field, "not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen {
		return FieldError(field, "length must be between %d and %d characters", minLen, maxLen)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return FieldError(field, "control characters are not allowed")
		}
	}
	return nil
}
