// Package legal is the configuration of the legal pages a French public
// body publishes (who publishes, hosts and answers: Legal, validated) and
// the accessibility statement's data: the committed results of the browser
// tests' axe-core checks (accessibilite.json, embedded), which those tests
// rewrite with -update and fail on when stale. dashboards/pages renders
// them.
package legal

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/fr"
)

// Legal is who runs the platform, for the legal pages (apid: legal.*). Empty
// fields with a default take the Département des Alpes-Maritimes' (see
// DefaultLegal); the others are shown as a marked placeholder
// ("à compléter") until set, and Placeholders lists them.
type Legal struct {
	// Publisher (optional) defaults to "Département des Alpes-Maritimes".
	Publisher string `koanf:"publisher"`
	// Address is the publisher's postal address (optional) defaults to the
	// Centre administratif départemental in Nice.
	Address string `koanf:"address"`
	// Phone is the publisher's switchboard (optional) defaults to the
	// Département's, 04 97 18 60 00.
	Phone string `koanf:"phone"`
	// Director of publication (optional) defaults to the président du
	// Conseil départemental, the Département's executive.
	Director string `koanf:"director"`
	// ContactEmail answers questions about the platform and accessibility
	// requests (placeholder until set).
	ContactEmail string `koanf:"contact_email"`
	// HostName, HostAddress and HostPhone are the hosting provider's (LCEN
	// art. 6; placeholders until set).
	HostName    string `koanf:"host_name"`
	HostAddress string `koanf:"host_address"`
	HostPhone   string `koanf:"host_phone"`
	// DPOEmail reaches the data protection officer (placeholder until set).
	DPOEmail string `koanf:"dpo_email"`
	// DPOAddress is the DPO's postal address (optional) defaults to the
	// publisher's, for the attention of the DPO.
	DPOAddress string `koanf:"dpo_address"`
	// AccessibilityPlanURL is the schéma pluriannuel de mise en accessibilité
	// (placeholder until set).
	AccessibilityPlanURL string `koanf:"accessibility_plan_url"`
	// RGAAAuditRate is the share of RGAA criteria met (0–100) found by the
	// last full RGAA 4.1 audit (optional): without one the platform is "non
	// conforme" whatever the automated checks say, as the RGAA requires.
	RGAAAuditRate float64 `koanf:"rgaa_audit_rate"`
	// RGAAAuditDate (YYYY-MM-DD) and RGAAAuditor (who audited) are required
	// with RGAAAuditRate.
	RGAAAuditDate string `koanf:"rgaa_audit_date"`
	RGAAAuditor   string `koanf:"rgaa_auditor"`
}

// DefaultLegal is the Département des Alpes-Maritimes as publisher. The host,
// the contact and DPO e-mails and the accessibility plan depend on the
// deployment and stay empty (placeholders).
func DefaultLegal() Legal {
	return Legal{
		Publisher:  "Département des Alpes-Maritimes",
		Address:    "Centre administratif départemental, 147 boulevard du Mercantour, BP 3007, 06201 Nice Cedex 3",
		Phone:      "04 97 18 60 00",
		Director:   "Le président du Conseil départemental des Alpes-Maritimes",
		DPOAddress: "Délégué à la protection des données, Département des Alpes-Maritimes, Centre administratif départemental, 147 boulevard du Mercantour, BP 3007, 06201 Nice Cedex 3",
	}
}

// Validate fills the defaults and checks the values; errors name the key.
func (l *Legal) Validate() error {
	d := DefaultLegal()
	fill := func(v *string, def string) {
		if strings.TrimSpace(*v) == "" {
			*v = def
		}
	}
	fill(&l.Publisher, d.Publisher)
	fill(&l.Address, d.Address)
	fill(&l.Phone, d.Phone)
	fill(&l.Director, d.Director)
	fill(&l.DPOAddress, d.DPOAddress)
	for key, v := range map[string]string{"legal.contact_email": l.ContactEmail, "legal.dpo_email": l.DPOEmail} {
		if v == "" {
			continue
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			return fmt.Errorf("%s: %q is not an e-mail address", key, v)
		}
	}
	if l.AccessibilityPlanURL != "" {
		if u, err := url.Parse(l.AccessibilityPlanURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("legal.accessibility_plan_url: %q: want an http(s) URL", l.AccessibilityPlanURL)
		}
	}
	if l.RGAAAuditRate < 0 || l.RGAAAuditRate > 100 || math.IsNaN(l.RGAAAuditRate) {
		return errors.New("legal.rgaa_audit_rate: want a percentage between 0 and 100")
	}
	if l.RGAAAuditRate > 0 {
		if _, err := time.Parse(time.DateOnly, l.RGAAAuditDate); err != nil {
			return fmt.Errorf("legal.rgaa_audit_date: %q: want YYYY-MM-DD with legal.rgaa_audit_rate", l.RGAAAuditDate)
		}
		if strings.TrimSpace(l.RGAAAuditor) == "" {
			return errors.New("legal.rgaa_auditor: required with legal.rgaa_audit_rate")
		}
	}
	return nil
}

// Placeholders are the legal.* keys the pages show as "à compléter": what an
// operator must set before opening the platform to the public.
func (l Legal) Placeholders() []string {
	var out []string
	for _, f := range l.Fields() {
		if f.Value == "" {
			out = append(out, f.Key)
		}
	}
	return out
}

// Field is a value of the legal pages with its key, which the page
// names when the value is missing.
type Field struct{ Key, Value string }

func (l Legal) Fields() []Field {
	return []Field{{"legal.contact_email", l.ContactEmail}, {"legal.host_name", l.HostName},
		{"legal.host_address", l.HostAddress}, {"legal.host_phone", l.HostPhone}, {"legal.dpo_email", l.DPOEmail},
		{"legal.accessibility_plan_url", l.AccessibilityPlanURL}}
}

// View is Legal for the templates: the placeholders as fields.
type View struct {
	Legal
	Contact, HostName, HostAddress, HostPhone, DPO, Plan Field
}

func (l Legal) View() View {
	f := l.Fields()
	return View{Legal: l, Contact: f[0], HostName: f[1], HostAddress: f[2], HostPhone: f[3], DPO: f[4], Plan: f[5]}
}

// AccessibilityChecks are the results of the automated accessibility checks
// of the browser tests (TestBrowserAccessibility), committed as
// accessibilite.json and shown by /accessibilite. The test fails when a run
// finds anything other than what the file says, and rewrites it with -update.
type AccessibilityChecks struct {
	Date       string        `json:"date"`        // YYYY-MM-DD of the run that wrote the file
	AxeVersion string        `json:"axe_version"` // axe-core
	Browser    string        `json:"browser"`     // the Chromium of that run
	Tags       []string      `json:"tags"`        // axe tags checked (WCAG 2.0/2.1 A and AA)
	Rules      []string      `json:"rules"`       // the axe rules those tags select
	Pages      []CheckedPage `json:"pages"`
}

// CheckedPage is one page of the run and what axe found there.
type CheckedPage struct {
	Name       string   `json:"name"`    // in French, as the statement lists it
	Path       string   `json:"path"`    // with {id} for identifiers
	Visitor    string   `json:"visitor"` // who looks: "visiteur", "citoyen·ne"…
	Violations int      `json:"violations"`
	Passes     int      `json:"passes"`     // rules that found only conforming elements
	Incomplete []string `json:"incomplete"` // rules axe could not decide: to check by hand
}

// Violations is the total over the pages.
func (a *AccessibilityChecks) Violations() int {
	n := 0
	for _, p := range a.Pages {
		n += p.Violations
	}
	return n
}

// ToCheck is the sorted set of rules axe left undecided on some page.
func (a *AccessibilityChecks) ToCheck() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range a.Pages {
		for _, r := range p.Incomplete {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

//go:embed accessibilite.json
var accessibilityJSON []byte

// a11y is accessibilite.json, parsed once; the page tests prove it parses.
var a11y, a11yErr = Accessibility()

// Checks is accessibilite.json, parsed once (an error if it does not parse).
func Checks() (*AccessibilityChecks, error) { return a11y, a11yErr }

// Accessibility returns the committed results the statement shows.
func Accessibility() (*AccessibilityChecks, error) {
	var a AccessibilityChecks
	if err := json.Unmarshal(accessibilityJSON, &a); err != nil {
		return nil, fmt.Errorf("accessibilite.json: %w", err)
	}
	if _, err := time.Parse(time.DateOnly, a.Date); err != nil {
		return nil, fmt.Errorf("accessibilite.json: date: %w", err)
	}
	if a.AxeVersion == "" || len(a.Rules) == 0 || len(a.Pages) == 0 {
		return nil, errors.New("accessibilite.json: axe_version, rules and pages are required")
	}
	return &a, nil
}

// conformity is the statement's état de conformité, from the last RGAA
// audit: none, or under 50 % of the criteria, is "non conforme".
func (l Legal) Conformity() string {
	switch {
	case l.RGAAAuditRate >= 100:
		return "totalement conforme"
	case l.RGAAAuditRate >= 50:
		return "partiellement conforme"
	default:
		return "non conforme"
	}
}

func Percent(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1) + "\u00a0%"
}

func Day(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return d + "\u00a0" + fr.Month(t.Month()) + " " + strconv.Itoa(t.Year())
}
