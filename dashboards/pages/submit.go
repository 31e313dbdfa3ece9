package pages

import (
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The proposal form (/idees/nouvelle): a citizen submits a proposal without
// JavaScript. The form only turns its text fields into a actions.ProposalReq; the
// proposal is validated and stored by the same code as POST /api/v1/ideas,
// so it waits for moderation (status submitted) like any other.

const newProposalPath = "/idees/nouvelle"

// proposalFormReq documents the form body in OpenAPI.
type proposalFormReq struct {
	CSRF       string `json:"csrf"`
	Title      string `json:"title"`
	Body       string `json:"body"`
	ThemeID    string `json:"theme_id"`
	CampaignID string `json:"campaign_id"`
	Cost       string `json:"estimated_cost_eur"` // whole euros; spaces and a trailing € allowed
	Lat        string `json:"lat"`                // decimal degrees (point or comma); both or neither
	Lon        string `json:"lon"`
	Commune    string `json:"commune"` // a commune of the Alpes-Maritimes, its point when lat and lon are empty
}

// proposalView fills the proposal form template: the values typed (kept
// after a refusal), the choices and the field in error.
type proposalView struct {
	Title, Body, ThemeID, CampaignID, Cost, Lat, Lon, Commune string
	Field                                                     string // id of the invalid input, if any
	Themes                                                    []*civic.Theme
	Campaigns                                                 []*civic.Campaign // open citizen-proposal campaigns
}

// proposalInputs maps the field of a refusal (the store's FieldError names,
// or the form's own lat/lon) to the input that gets aria-invalid and focus.
var proposalInputs = map[string]string{
	"title": "titre", "body": "texte", "theme_id": "theme", "campaign_id": "appel",
	"estimated_cost_eur": "cout", "location": "latitude", "lat": "latitude", "lon": "longitude", "commune": "commune",
}

// proposalMessages are the refusals in French, by field.
var proposalMessages = map[string]string{
	"title":              "Le titre doit compter entre 3 et 200 caractères, sans caractère de contrôle.",
	"body":               "Décrivez votre proposition : entre 1 et 20 000 caractères, sans caractère de contrôle.",
	"theme_id":           "Choisissez un thème dans la liste.",
	"campaign_id":        "Choisissez un appel à propositions ouvert.",
	"estimated_cost_eur": "Indiquez le coût estimé en euros : un nombre entier, positif ou nul, sans centimes (par exemple 45 000).",
	"location":           "Indiquez la latitude (entre -90 et 90) et la longitude (entre -180 et 180) en degrés décimaux, ou laissez les deux champs vides.",
}

func (s *Pages) proposalForm() *pageForm {
	return &pageForm{onError: s.proposalFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Le dépôt de propositions est réservé aux comptes citoyens.",
	}}
}

// openCampaigns are the campaigns a citizen can submit to now.
func (s *Pages) openCampaigns(c *fiber.Ctx) ([]*civic.Campaign, error) {
	all, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return nil, err
	}
	var open []*civic.Campaign
	now := s.now()
	for _, cp := range all {
		if cp.CheckSubmission(civic.RoleCitizen, now) == nil { // a call for citizen ideas, running
			open = append(open, cp)
		}
	}
	return open, nil
}

func (s *Pages) newProposalPage(c *fiber.Ctx) error {
	return s.renderProposalForm(c, fiber.StatusOK, proposalView{}, "")
}

func (s *Pages) renderProposalForm(c *fiber.Ctx, status int, v proposalView, msg string) error {
	var err error
	if v.Themes, err = s.store.Themes(ctx(c)); err != nil {
		return err
	}
	if v.Campaigns, err = s.openCampaigns(c); err != nil {
		return err
	}
	if len(v.Campaigns) == 1 {
		v.CampaignID = v.Campaigns[0].ID // implicit: the form shows it, a hidden field sends it
		if v.Field == "appel" {
			v.Field = "" // no list to focus: the message takes the focus
		}
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	data := &proposalFormView{Page: Page{Title: "Déposer une proposition", Session: se, Here: "/idees", ImgSrc: s.cfg.Tiles.Origin()}, Form: v, // signing out here leads to the list
		Map: s.locationMap()}
	if msg != "" {
		data.Error = &formError{Msg: msg, Field: v.Field}
	}
	c.Status(status)
	return s.render(c, "nouvelle.html", data)
}

// proposalPost is the proposal Form: the proposal is created by the same
// code as POST /api/v1/ideas, then the author lands on its page (theirs to
// see while it waits for moderation) with a confirmation.
func (s *Pages) proposalPost(c *fiber.Ctx) error {
	r := actions.ProposalReq{Title: c.FormValue("title"), Body: c.FormValue("body"),
		ThemeID: c.FormValue("theme_id"), CampaignID: c.FormValue("campaign_id")}
	var err error
	if r.EstimatedCostEUR, err = parseEuros(c.FormValue("estimated_cost_eur")); err != nil {
		return err
	}
	if r.Location, err = parseLocation(c.FormValue("lat"), c.FormValue("lon")); err != nil {
		return err
	}
	if r.Location == nil {
		if r.Location, err = communeLocation(c.FormValue("commune")); err != nil {
			return err
		}
	}
	p, err := s.act.SubmitProposal(c, r)
	if err != nil {
		return err
	}
	s.setFlash(c, "proposition-deposee")
	return c.Redirect("/idees/"+url.PathEscape(p.ID), fiber.StatusSeeOther)
}

// proposalFailed answers a refused proposal form (or a refused visit of
// the form page). An anonymous visit goes to the sign-in page, which comes
// back here; other refusals show the form again with what was typed, the
// French message and the invalid field focused.
func (s *Pages) proposalFailed(c *fiber.Ctx, status int, msg, field string) error {
	switch status {
	case fiber.StatusUnauthorized:
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(newProposalPath), fiber.StatusSeeOther)
		}
		// The session expired while writing: the sign-in form, back here after.
		return s.renderSignIn(c, status, signInView{Retour: newProposalPath}, msg)
	case fiber.StatusForbidden:
		// The guard checks the role before the CSRF token: a citizen's 403
		// is a bad token. The form comes back empty, since a cross-site post
		// must not return as a form filled in by the other site, one click
		// away from being sent.
		if p := web.Caller(c); p == nil || !p.User.Role.In(web.Proposers...) {
			return s.renderError(c, status, msg)
		}
		return s.renderProposalForm(c, status, proposalView{}, msg)
	}
	if m, ok := proposalMessages[field]; ok {
		msg = m
	} else if field == "lat" || field == "lon" {
		msg = proposalMessages["location"]
	} else if field == "commune" {
		msg = communeMessage(c.FormValue("commune"))
	}
	// What was typed comes back, except values far over the limits.
	v := proposalView{Field: proposalInputs[field],
		Title: keep(c.FormValue("title"), 1000), Body: keep(c.FormValue("body"), 100_000),
		ThemeID: keep(c.FormValue("theme_id"), 100), CampaignID: keep(c.FormValue("campaign_id"), 100),
		Cost: keep(c.FormValue("estimated_cost_eur"), 40), Lat: keep(c.FormValue("lat"), 40), Lon: keep(c.FormValue("lon"), 40),
		Commune: keep(c.FormValue("commune"), 100)}
	return s.renderProposalForm(c, status, v, msg)
}

// keep returns v if it is at most max bytes long, else "".
func keep(v string, max int) string {
	if len(v) > max {
		return ""
	}
	return v
}

// parseEuros reads a whole number of euros as people write it in French:
// "45000", "45 000" (any kind of space), "45 000 €".
func parseEuros(v string) (int64, error) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "€"))
	v = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(v)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, civic.FieldError("estimated_cost_eur", "want a whole number of euros")
	}
	return n, nil
}

// parseLocation reads the optional latitude and longitude fields (decimal
// point or comma): both or neither. Ranges are the domain's to check.
func parseLocation(lat, lon string) (*civic.Point, error) {
	lat, lon = strings.TrimSpace(lat), strings.TrimSpace(lon)
	if lat == "" && lon == "" {
		return nil, nil
	}
	if lat == "" || lon == "" {
		field := "lat"
		if lon == "" {
			field = "lon"
		}
		return nil, civic.FieldError(field, "give both latitude and longitude, or neither")
	}
	la, err := parseDegrees(lat)
	if err != nil {
		return nil, civic.FieldError("lat", "want decimal degrees")
	}
	lo, err := parseDegrees(lon)
	if err != nil {
		return nil, civic.FieldError("lon", "want decimal degrees")
	}
	return &civic.Point{Lat: la, Lon: lo}, nil
}

// degrees is a number of decimal degrees as typed: a sign, digits, and a
// decimal point or comma ("43,70"); no exponent, NaN or infinity, which
// strconv.ParseFloat would take.
var degrees = regexp.MustCompile(`^[+-]?[0-9]{1,3}([.,][0-9]{1,12})?$`)

func parseDegrees(v string) (float64, error) {
	if !degrees.MatchString(v) {
		return 0, errors.New("not decimal degrees")
	}
	return strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
}

// communeLocation is the point of the commune of the Alpes-Maritimes named
// by name (the gazetteer, assets.FindCommunes): the commune whose name it
// is, else the one commune that matches; several or none is a field error.
// An empty name is no location.
func communeLocation(name string) (*civic.Point, error) {
	if strings.TrimSpace(name) == "" {
		return nil, nil
	}
	if c, ok := oneCommune(name); ok {
		return &civic.Point{Lat: c.Lat, Lon: c.Lon}, nil
	}
	return nil, civic.FieldError("commune", "not one commune of the Alpes-Maritimes")
}

func oneCommune(name string) (assets.Commune, bool) {
	found := assets.FindCommunes(name)
	if len(found) == 1 {
		return found[0], true
	}
	for _, c := range found {
		if assets.Fold(c.Name) == assets.Fold(name) {
			return c, true
		}
	}
	return assets.Commune{}, false
}

// communeMessage says why a commune was refused, naming the candidates.
func communeMessage(name string) string {
	found := assets.FindCommunes(name)
	if len(found) == 0 {
		return "Aucune commune des Alpes-Maritimes ne porte ce nom : vérifiez l'orthographe, ou indiquez la latitude et la longitude."
	}
	names := make([]string, 0, len(found))
	for _, c := range found {
		names = append(names, c.Name)
	}
	return "Plusieurs communes correspondent (" + strings.Join(names, ", ") + ") : précisez laquelle."
}
