package pages

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The back office's campaigns (/admin/appels): create a campaign with its
// period, budget, shortlist rule and own themes, add a theme, apply the
// shortlist, close the vote — the code of the JSON routes (actions).

const adminCampaignsPath = "/admin/appels"

func init() { maps.Copy(flashMessages, campaignFlash) }

var campaignFlash = map[string]string{
	"appel-cree":     "L'appel est créé.",
	"theme-cree":     "Le thème est ajouté.",
	"preselection":   "La règle de présélection est appliquée.",
	"preselection-0": "La règle de présélection est appliquée : aucune proposition ne la remplit.",
	"vote-clos":      "Le vote est clos : l'appel ne reçoit plus ni soutiens ni propositions.",
}

type campaignFormReq struct {
	CSRF     string   `json:"csrf"`
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`   // ideas or projects
	Starts   string   `json:"starts"` // YYYY-MM-DD
	Ends     string   `json:"ends"`   // YYYY-MM-DD, included
	Budget   string   `json:"budget_eur"`
	TopN     string   `json:"shortlist_top_n"`
	MinVotes string   `json:"shortlist_min_votes"`
	Themes   []string `json:"themes"`
}

type themeFormReq struct {
	CSRF   string `json:"csrf"`
	ID     string `json:"id"`
	NameFR string `json:"name_fr"`
	NameEN string `json:"name_en"`
}

var campaignKindFR = map[civic.CampaignKind]string{civic.CampaignIdeas: "propositions citoyennes", civic.CampaignProjects: "appel à projets"}

// campaignInputs maps a refused field to the input focused.
var campaignInputs = map[string]string{
	"id": "appel-id", "name": "appel-nom", "kind": "appel-type", "starts": "appel-debut", "ends": "appel-fin", "budget_eur": "appel-budget",
	"shortlist_top_n": "appel-top", "shortlist_min_votes": "appel-min", "theme_ids": "appel-themes", "name_fr": "theme-nom", "name_en": "theme-nom-en",
}

func (s *Pages) campaignForms() *pageForm {
	f := &pageForm{onError: s.campaignsFailed, messages: map[string]string{
		civic.EFORBIDDEN: "L'administration des appels est réservée aux administrateurs.",
		civic.ECONFLICT:  "Impossible : cet identifiant existe déjà, ou l'appel ne se déroule pas (rien à clore).",
		civic.ENOTFOUND:  "Cet appel n'existe pas.",
		civic.EINVALID:   "Le formulaire contient une erreur : vérifiez le champ signalé.",
	}}
	f.srv = s
	return f
}

func (s *Pages) campaignRoutes() []*web.Route {
	f := s.campaignForms()
	return []*web.Route{
		{Method: "GET", Path: "/appels/:id/resultats", Tag: "pages", Summary: "Page (HTML, French): a campaign's public results, like GET /api/v1/campaigns/{id}/results", Produces: "text/html", Handler: s.resultsPage},
		{Method: "GET", Path: adminCampaignsPath, Tag: "pages", Summary: "Page (HTML, French): the campaigns with their budget, period, shortlist rule and themes; forms to create a campaign, add a theme, apply the shortlist and close the vote", Access: web.SignedIn, Roles: web.Admins, Produces: "text/html", Form: f, Handler: s.campaignsPage},
		{Method: "POST", Path: adminCampaignsPath, Tag: "pages", Summary: "Campaign form post, like POST /api/v1/campaigns (dates YYYY-MM-DD, the end included), then 303 to the list", Access: web.SignedIn, Roles: web.Admins, Body: campaignFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.campaignPost},
		{Method: "POST", Path: adminCampaignsPath + "/themes", Tag: "pages", Summary: "Theme form post, like POST /api/v1/themes, then 303 to the list", Access: web.SignedIn, Roles: web.Admins, Body: themeFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.themePost},
		{Method: "POST", Path: adminCampaignsPath + "/:id/preselection", Tag: "pages", Summary: "Apply the shortlist rule, like POST /api/v1/campaigns/{id}/shortlist, then 303 to the list", Access: web.SignedIn, Roles: web.Admins, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.shortlistPost},
		{Method: "POST", Path: adminCampaignsPath + "/:id/cloture", Tag: "pages", Summary: "Close the vote, like POST /api/v1/campaigns/{id}/close, then 303 to the list", Access: web.SignedIn, Roles: web.Admins, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.closePost},
	}
}

func (s *Pages) campaignsPage(c *fiber.Ctx) error {
	return s.renderCampaigns(c, fiber.StatusOK, campaignDraft{Kind: string(civic.CampaignIdeas)}, nil, civic.Theme{}, nil)
}

func (s *Pages) renderCampaigns(c *fiber.Ctx, status int, d campaignDraft, checked []string, t civic.Theme, ferr *formError) error {
	cps, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	ts, err := s.store.Themes(ctx(c))
	if err != nil {
		return err
	}
	own, err := s.store.CampaignThemes(ctx(c))
	if err != nil {
		return err
	}
	names := map[string]string{}
	v := &campaignsView{Page: Page{Title: "Appels", Error: ferr}, Draft: d, Theme: t}
	for _, th := range ts {
		names[th.ID] = th.NameFR
		v.Themes = append(v.Themes, themeOption{ID: th.ID, Name: th.NameFR, Checked: slices.Contains(checked, th.ID)})
	}
	if ferr != nil {
		v.Field = ferr.Field
	}
	now := s.now()
	for _, cp := range cps {
		b, err := s.views.Campaign(ctx(c), cp)
		if err != nil {
			return err
		}
		row := campaignRow{CampaignBudget: b, KindFR: campaignKindFR[cp.Kind], Running: cp.Open(now),
			Period: "du " + fr.Day(cp.Starts) + " au " + fr.Day(cp.Ends.Add(-time.Millisecond))}
		var rule []string
		if cp.ShortlistTopN > 0 {
			rule = append(rule, "les "+strconv.Itoa(cp.ShortlistTopN)+" plus soutenues de chaque thème")
		}
		if cp.ShortlistMinVotes > 0 {
			rule = append(rule, "au moins "+strconv.Itoa(cp.ShortlistMinVotes)+" soutiens")
		}
		row.Rule = strings.Join(rule, " ; ")
		if row.Rule == "" {
			row.Rule = "aucune"
		}
		var tn []string
		for _, id := range own[cp.ID] {
			tn = append(tn, names[id])
		}
		row.Themes = strings.Join(tn, ", ")
		if row.Themes == "" {
			row.Themes = "tous les thèmes"
		}
		v.Campaigns = append(v.Campaigns, row)
	}
	c.Status(status)
	return s.render(c, "admin_appels.html", v)
}

// formInt reads an optional whole number of a form (empty: 0).
func formInt(c *fiber.Ctx, name, field string) (int64, error) {
	v := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(c.FormValue(name), " ", ""), "\u202f", ""))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, civic.FieldError(field, "want a whole number")
	}
	return n, nil
}

func formThemes(c *fiber.Ctx) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti("themes") {
		if len(out) < 50 {
			out = append(out, string(v))
		}
	}
	return out
}

func (s *Pages) campaignPost(c *fiber.Ctx) error {
	r := actions.CampaignReq{ID: strings.TrimSpace(c.FormValue("id")), Name: c.FormValue("name"), Kind: civic.CampaignKind(c.FormValue("kind")), ThemeIDs: formThemes(c)}
	var err error
	if r.Starts, err = civic.ParseFilterTime(c.FormValue("starts"), "starts", false); err != nil || r.Starts.IsZero() {
		return civic.FieldError("starts", "want YYYY-MM-DD")
	}
	if r.Ends, err = civic.ParseFilterTime(c.FormValue("ends"), "ends", true); err != nil || r.Ends.IsZero() {
		return civic.FieldError("ends", "want YYYY-MM-DD")
	}
	if r.BudgetEUR, err = formInt(c, "budget_eur", "budget_eur"); err != nil {
		return err
	}
	top, err := formInt(c, "shortlist_top_n", "shortlist_top_n")
	if err != nil {
		return err
	}
	minVotes, err := formInt(c, "shortlist_min_votes", "shortlist_min_votes")
	if err != nil {
		return err
	}
	if top > 1000 || minVotes > 1_000_000 {
		return civic.FieldError("shortlist_top_n", "too large")
	}
	r.ShortlistTopN, r.ShortlistMinVotes = int(top), int(minVotes)
	if _, err := s.act.CreateCampaign(c, r); err != nil {
		return err
	}
	s.setFlash(c, "appel-cree")
	return c.Redirect(adminCampaignsPath, fiber.StatusSeeOther)
}

func (s *Pages) themePost(c *fiber.Ctx) error {
	t := &civic.Theme{ID: strings.TrimSpace(c.FormValue("id")), NameFR: c.FormValue("name_fr"), NameEN: c.FormValue("name_en")}
	if err := s.act.CreateTheme(c, t); err != nil {
		return err
	}
	s.setFlash(c, "theme-cree")
	return c.Redirect(adminCampaignsPath, fiber.StatusSeeOther)
}

func (s *Pages) shortlistPost(c *fiber.Ctx) error {
	ids, err := s.act.Shortlist(c, c.Params("id"))
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		s.setFlash(c, "preselection-0")
	} else {
		s.setFlash(c, "preselection")
	}
	return c.Redirect(adminCampaignsPath+"#appel-"+c.Params("id"), fiber.StatusSeeOther)
}

func (s *Pages) closePost(c *fiber.Ctx) error {
	if _, err := s.act.CloseVote(c, c.Params("id")); err != nil {
		return err
	}
	s.setFlash(c, "vote-clos")
	return c.Redirect(adminCampaignsPath+"#appel-"+c.Params("id"), fiber.StatusSeeOther)
}

// campaignsFailed: an anonymous visit goes to the sign-in page, another
// role gets the plain error page, a refused form shows the list again with
// what was typed and the field focused.
func (s *Pages) campaignsFailed(c *fiber.Ctx, status int, msg, field string) error {
	p := web.Caller(c)
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		return c.Redirect("/connexion?"+returnField+"="+adminCampaignsPath, fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: adminCampaignsPath}, msg)
	case c.Method() == fiber.MethodGet || p == nil || !p.User.Role.Moderates():
		return s.renderError(c, status, msg)
	}
	if e := formErrorOf(c); (e != nil && e.Code == civic.ECSRF) || c.Params("id") != "" {
		return s.renderCampaigns(c, status, campaignDraft{Kind: string(civic.CampaignIdeas)}, nil, civic.Theme{}, &formError{Msg: msg})
	}
	d := campaignDraft{Kind: string(civic.CampaignIdeas)}
	var t civic.Theme
	if strings.HasSuffix(c.Path(), "/themes") {
		t = civic.Theme{ID: keep(c.FormValue("id"), 100), NameFR: keep(c.FormValue("name_fr"), 400), NameEN: keep(c.FormValue("name_en"), 400)}
		if field == "id" {
			field = "theme_id"
		}
	} else {
		d = campaignDraft{ID: keep(c.FormValue("id"), 100), Name: keep(c.FormValue("name"), 400), Kind: keep(c.FormValue("kind"), 20),
			Starts: keep(c.FormValue("starts"), 20), Ends: keep(c.FormValue("ends"), 20), Budget: keep(c.FormValue("budget_eur"), 30),
			TopN: keep(c.FormValue("shortlist_top_n"), 10), MinVotes: keep(c.FormValue("shortlist_min_votes"), 10)}
	}
	id := campaignInputs[field]
	if field == "theme_id" {
		id = "theme-id"
	}
	return s.renderCampaigns(c, status, d, formThemes(c), t, &formError{Msg: msg, Field: id})
}

// resultsPage is a campaign's public results (what GET
// /api/v1/campaigns/{id}/results returns): the selected proposals against
// the budget with their realization, the rejected with their reasons.
func (s *Pages) resultsPage(c *fiber.Ctx) error {
	cp, err := s.store.Campaign(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	ps, err := s.store.Proposals(ctx(c), civic.ProposalFilter{CampaignID: cp.ID, Statuses: civic.ResultStatuses(), Limit: 500})
	if err != nil {
		return err
	}
	r := civic.CampaignResults(cp, ps)
	v := &resultsView{Page: Page{Title: "Résultats — " + cp.Name}, R: r, Kind: campaignKindFR[cp.Kind],
		Period: "du " + fr.Day(cp.Starts) + " au " + fr.Day(cp.Ends.Add(-time.Millisecond))}
	if cp.BudgetEUR > 0 {
		v.Ratio = strconv.FormatInt(r.CommittedEUR*100/cp.BudgetEUR, 10) + " %"
	}
	for _, p := range r.Selected {
		v.Selected = append(v.Selected, resultRow{Proposal: p, StatusFR: fr.Status(p.Status)})
	}
	for _, p := range r.Rejected {
		v.Rejected = append(v.Rejected, resultRow{Proposal: p, StatusFR: fr.Status(p.Status)})
	}
	return s.render(c, "resultats.html", v)
}
