package pages

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The review desk (/expertise): the committee's pages, without JavaScript.
// Experts score shortlisted proposals on the published criteria while they
// see the evidence; administrators take the committee's decision. Every
// number and every write goes through the code of the JSON routes (the view
// app.Evidence, putReview, changeStatus), so the pages can neither show
// other figures nor store anything the API would refuse.

const reviewDeskPath = "/expertise"

// awaitingReview are the statuses the desk lists: the proposals experts
// may score (civic.Status.Reviewable, what PutReview accepts).
var awaitingReview = civic.ReviewableStatuses()

func reviewable(st civic.Status) bool { return st.Reviewable() }

func reviewPath(id string) string { return reviewDeskPath + "/" + url.PathEscape(id) }

// reviewFormReq and decisionFormReq document the form bodies in OpenAPI.
type reviewFormReq struct {
	CSRF        string `json:"csrf"`
	Impact      string `json:"impact"`      // 1 to 5
	Feasibility string `json:"feasibility"` // 1 to 5
	Cost        string `json:"cost"`        // 1 to 5
	Comment     string `json:"comment"`
}

type decisionFormReq struct {
	CSRF     string `json:"csrf"`
	Decision string `json:"decision"` // retenir, rejeter or expertiser
	Reason   string `json:"reason"`   // public; required to reject
}

// decisions maps the decision form's choices to workflow steps.
var decisions = map[string]civic.Status{
	"retenir": civic.StatusSelected, "rejeter": civic.StatusRejected, "expertiser": civic.StatusUnderReview,
}

// criteria are the published review criteria, in the order of the form.
var criteria = []struct{ Name, Legend, Help string }{
	{"impact", "Impact", "Bénéfice attendu pour les habitants, le territoire et l'environnement : 1 = très faible, 5 = très fort."},
	{"feasibility", "Faisabilité", "Capacité à réaliser la proposition (technique, délais, autorisations, moyens du département) : 1 = très difficile, 5 = sans difficulté."},
	{"cost", "Coût", "Coût estimé au regard du bénéfice attendu et du budget de l'appel : 1 = très défavorable, 5 = très favorable."},
}

var scaleFR = [...]string{"très faible", "faible", "moyen", "bon", "très bon"}

// reviewMessages are the review form's refusals in French, by field.
var reviewMessages = map[string]string{
	"impact":      "Choisissez une note d'impact, de 1 à 5.",
	"feasibility": "Choisissez une note de faisabilité, de 1 à 5.",
	"cost":        "Choisissez une note de coût, de 1 à 5.",
	"comment":     "Le commentaire compte 5 000 caractères au plus, sans caractère de contrôle.",
	"reason":      "Indiquez le motif public de la décision : 2 000 caractères au plus, obligatoire pour ne pas retenir une proposition.",
	"decision":    "Choisissez une décision dans la liste.",
	"status":      "Choisissez une décision dans la liste.",
}

// reviewInputs maps a refused field to the input that gets aria-invalid
// and the focus.
var reviewInputs = map[string]string{
	"impact": "impact-1", "feasibility": "feasibility-1", "cost": "cost-1",
	"comment": "avis-commentaire", "reason": "motif", "decision": "decision", "status": "decision",
}

func (s *Pages) reviewForms() (desk, review, decision *pageForm) {
	desk = &pageForm{onError: s.reviewFailed, messages: map[string]string{
		civic.EFORBIDDEN: "L'expertise des propositions est réservée aux experts et aux administrateurs.",
	}}
	review = &pageForm{onError: s.reviewFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Seuls les experts notent les propositions.",
		civic.ECONFLICT:  "Seules les propositions présélectionnées ou en cours d'expertise reçoivent des avis.",
	}}
	decision = &pageForm{onError: s.reviewFailed, messages: map[string]string{
		civic.EFORBIDDEN:   "Les décisions du comité sont réservées aux administrateurs.",
		civic.ECONFLICT:    "Cette décision n'est pas possible au statut actuel de la proposition : rechargez la page.",
		civic.EOVERBUDGET:  "Sélection refusée : retenir cette proposition dépasserait le budget de l'appel de {depassement}. Rien n'a été modifié.",
		civic.ENOTFOUND:    formMessages[civic.ENOTFOUND],
		civic.EUNAVAILABLE: formMessages[civic.EUNAVAILABLE],
	}}
	return desk, review, decision
}

// scoreSummary is what the desk says of a proposal's reviews so far.
type scoreSummary struct {
	Count                     int
	Impact, Feasibility, Cost string // means in French, "—" without reviews
	Mine                      bool   // the visitor has reviewed it
}

func summarize(rs []*civic.Review, me string) scoreSummary {
	sum := scoreSummary{Count: len(rs), Impact: "—", Feasibility: "—", Cost: "—"}
	if len(rs) == 0 {
		return sum
	}
	var i, f, c int
	for _, r := range rs {
		i, f, c = i+r.Impact, f+r.Feasibility, c+r.Cost
		sum.Mine = sum.Mine || r.ExpertID == me
	}
	n := float64(len(rs))
	sum.Impact, sum.Feasibility, sum.Cost = fr.Num(float64(i)/n), fr.Num(float64(f)/n), fr.Num(float64(c)/n)
	return sum
}

type deskRow struct {
	P      *civic.Proposal
	Scores scoreSummary
}

type deskCampaign struct {
	app.CampaignBudget
	Rows []deskRow
}

// reviewDesk lists, per campaign, the proposals awaiting review with their
// scores so far, and the campaign's budget (as GET /campaigns/{id} counts it).
// Campaigns are shown while they run or have proposals awaiting review.
func (s *Pages) reviewDesk(c *fiber.Ctx) error {
	cps, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	me := web.Caller(c).User.ID
	now := s.now()
	var desk []deskCampaign
	awaiting := 0
	for _, cp := range cps {
		ps, err := s.store.Proposals(ctx(c), civic.ProposalFilter{CampaignID: cp.ID, Statuses: awaitingReview, Limit: 500})
		if err != nil {
			return err
		}
		if len(ps) == 0 && !cp.Open(now) {
			continue
		}
		v, err := s.views.Campaign(ctx(c), cp)
		if err != nil {
			return err
		}
		dc := deskCampaign{CampaignBudget: v}
		for _, p := range ps {
			rs, err := s.store.Reviews(ctx(c), p.ID)
			if err != nil {
				return err
			}
			dc.Rows = append(dc.Rows, deskRow{P: p, Scores: summarize(rs, me)})
		}
		awaiting += len(ps)
		desk = append(desk, dc)
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	return s.render(c, "expertise.html", &deskView{Page: Page{Title: "Expertise des propositions", Session: se}, Campaigns: desk,
		Awaiting: awaiting, Expert: web.Caller(c).User.Role == civic.RoleExpert})
}

// evidenceRow is one linked series' statistics, in French with its unit.
type evidenceRow struct {
	series.SeriesKey
	Name                 string // French quantity name
	Unit                 string
	Count                int
	Min, Mean, Max, Last string
}

// evidenceMission is a mission flown (or planned) for the proposal.
type evidenceMission struct {
	*civic.Mission
	Kind, Status, Window string
	Flown                bool
}

// reviewEntry is a review as the page lists it.
type reviewEntry struct {
	*civic.Review
	Expert, Date, ISO string
	Mine              bool
}

type scoreOption struct {
	Value   int
	Label   string
	Checked bool
}

type criterionView struct {
	Name, Legend, Help string
	Invalid            bool
	Options            []scoreOption
}

// reviewDraft is what the forms of a review page show: the visitor's
// review (or what they typed before a refusal) and the decision being taken.
type reviewDraft struct {
	Scores           map[string]int // by criterion; 0: none chosen
	Comment          string
	Decision, Reason string
	Field            string // the refused input's id
}

func (s *Pages) reviewPage(c *fiber.Ctx) error {
	return s.renderReview(c, fiber.StatusOK, nil, nil)
}

// renderReview renders a proposal for review: its text, the evidence, the
// reviews, and the forms the visitor's role allows. A refused form shows it
// again with its error (ferr), what was typed (d) and status.
func (s *Pages) renderReview(c *fiber.Ctx, status int, d *reviewDraft, ferr *formError) error {
	ev, err := s.views.Evidence(ctx(c), web.Viewer(c), c.Params("id"))
	if err != nil {
		return err
	}
	p := ev.Proposal
	series := make([]evidenceRow, 0, len(ev.Series))
	for _, sr := range ev.Series {
		st, u := sr.Stats, fr.Unit(sr.Unit)
		series = append(series, evidenceRow{SeriesKey: st.SeriesKey, Name: fr.Quantity(st.Quantity), Unit: u, Count: st.Count,
			Min: withUnit(st.Min, u), Mean: withUnit(st.Mean, u), Max: withUnit(st.Max, u), Last: withUnit(st.Last, u)})
	}
	missions := make([]evidenceMission, 0, len(ev.Missions))
	for _, m := range ev.Missions {
		missions = append(missions, evidenceMission{Mission: m, Kind: missionKind(m.Kind), Status: missionStatusFR[m.Status],
			Window: "du " + fr.Time(m.PlannedFrom) + " au " + fr.Time(m.PlannedTo), Flown: m.Started != nil})
	}
	me := web.Caller(c).User
	reviews, mine := reviewEntries(ev.Reviews, me.ID)
	rs := make([]*civic.Review, len(ev.Reviews))
	for i, r := range ev.Reviews {
		rs[i] = r.Review
	}
	canScore := me.Role == civic.RoleExpert && reviewable(p.Status)
	canDecide := me.Role == civic.RoleAdmin && reviewable(p.Status)
	if d == nil {
		d = &reviewDraft{}
		if mine != nil { // re-scoring starts from the visitor's review
			d.Scores = map[string]int{"impact": mine.Impact, "feasibility": mine.Feasibility, "cost": mine.Cost}
			d.Comment = mine.Comment
		}
	}
	cp, err := s.store.Campaign(ctx(c), p.CampaignID)
	if err != nil {
		return err
	}
	budget, err := s.views.Campaign(ctx(c), cp)
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	var place string
	if l := p.Location; l != nil {
		place = "latitude " + frDegrees(l.Lat) + ", longitude " + frDegrees(l.Lon)
	}
	page := &reviewView{Page: Page{Title: "Expertise : " + p.Title, Session: se, Here: reviewPath(p.ID), Error: ferr},
		Place: place, P: p, Series: series, Missions: missions,
		Reviews: reviews, Scores: summarize(rs, me.ID), Mine: mine != nil,
		CanScore: canScore, IsExpert: me.Role == civic.RoleExpert, CanDecide: canDecide, Criteria: criteriaView(d), Draft: d, Campaign: budget,
		EvidenceFrom: fr.Time(ev.Start), EvidenceTo: fr.Time(ev.Stop)}
	if canDecide {
		if p.Status == civic.StatusShortlisted {
			page.Choices = []string{"expertiser", "rejeter"}
		} else {
			page.Choices = []string{"retenir", "rejeter"}
		}
	}
	c.Status(status)
	return s.render(c, "expertise_idee.html", page)
}

func criteriaView(d *reviewDraft) []criterionView {
	out := make([]criterionView, 0, len(criteria))
	for _, cr := range criteria {
		v := criterionView{Name: cr.Name, Legend: cr.Legend, Help: cr.Help, Invalid: d.Field == cr.Name+"-1"}
		for i, l := range scaleFR {
			v.Options = append(v.Options, scoreOption{Value: i + 1, Label: strconv.Itoa(i+1) + " — " + l, Checked: d.Scores[cr.Name] == i+1})
		}
		out = append(out, v)
	}
	return out
}

// reviewEntries lists the reviews of a proposal (those of GET
// /ideas/{id}/reviews) with their experts' names, and returns the visitor's
// own review, if any.
func reviewEntries(rs []app.Review, me string) ([]reviewEntry, *civic.Review) {
	out := make([]reviewEntry, 0, len(rs))
	var mine *civic.Review
	for _, r := range rs {
		name := r.Expert
		if name == "" {
			name = "Compte supprimé"
		}
		if r.ExpertID == me {
			mine = r.Review
		}
		out = append(out, reviewEntry{Review: r.Review, Expert: name, Date: fr.Date(r.Created), ISO: r.Created.UTC().Format(time.RFC3339), Mine: r.ExpertID == me})
	}
	return out, mine
}

// frDegrees writes decimal degrees with a decimal comma, to the metre or so.
func frDegrees(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
}

// withUnit writes a statistic the French way with its unit, "—" when absent.
func withUnit(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	if unit == "" {
		return fr.Num(*v)
	}
	return fr.Num(*v) + "\u00a0" + unit
}

// reviewPost is the scoring Form: the review is stored by the same code as
// POST /api/v1/ideas/{id}/reviews (a new one replaces the expert's own),
// then 303 back to the page.
func (s *Pages) reviewPost(c *fiber.Ctx) error {
	id := c.Params("id")
	var r actions.ReviewReq
	for _, f := range []struct {
		name string
		dst  *int
	}{{"impact", &r.Impact}, {"feasibility", &r.Feasibility}, {"cost", &r.Cost}} {
		n, err := strconv.Atoi(strings.TrimSpace(c.FormValue(f.name)))
		if err != nil {
			return civic.FieldError(f.name, "score must be between 1 and 5")
		}
		*f.dst = n
	}
	r.Comment = c.FormValue("comment")
	if _, err := s.act.PutReview(c, id, r); err != nil {
		return err
	}
	s.setFlash(c, "avis-enregistre")
	return c.Redirect(reviewPath(id), fiber.StatusSeeOther)
}

// decisionPost is the committee's decision Form: the status changes by the
// same code as POST /api/v1/ideas/{id}/status (transition, public reason
// and budget checked in one transaction), then 303 back to the page.
func (s *Pages) decisionPost(c *fiber.Ctx) error {
	id := c.Params("id")
	choice := c.FormValue("decision")
	to, ok := decisions[choice]
	if !ok {
		return civic.FieldError("decision", "retenir, rejeter or expertiser")
	}
	r := actions.StatusReq{Status: to}
	if to == civic.StatusRejected {
		r.Reason = c.FormValue("reason") // a reason typed before choosing another decision is not kept
	}
	if _, err := s.act.ChangeStatus(c, id, r); err != nil {
		return err
	}
	s.setFlash(c, map[civic.Status]string{civic.StatusSelected: "decision-retenue", civic.StatusRejected: "decision-rejetee",
		civic.StatusUnderReview: "decision-expertise"}[to])
	return c.Redirect(reviewPath(id), fiber.StatusSeeOther)
}

// reviewFailed answers a refused visit or post of the review desk. An
// anonymous visit goes to the sign-in page, which comes back; a refused
// role gets the plain error page; a refused form shows the review page
// again with the message, what was typed and the field focused.
func (s *Pages) reviewFailed(c *fiber.Ctx, status int, msg, field string) error {
	here := reviewDeskPath
	if id := c.Params("id"); id != "" {
		here = reviewPath(id)
	}
	p := web.Caller(c)
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(here), fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: here}, msg)
	case c.Method() == fiber.MethodGet || status == fiber.StatusNotFound || p == nil || !p.User.Role.In(web.Reviewers...):
		return s.renderError(c, status, msg)
	case status == fiber.StatusForbidden:
		// A bad CSRF token (or a form of the other role): the page comes
		// back with nothing of what was posted, which may come from another site.
		return s.renderReview(c, status, nil, &formError{Msg: msg})
	}
	if m, ok := reviewMessages[field]; ok {
		msg = m
	}
	d := &reviewDraft{Scores: map[string]int{}, Comment: keep(c.FormValue("comment"), 25_000),
		Decision: keep(c.FormValue("decision"), 20), Reason: keep(c.FormValue("reason"), 10_000), Field: reviewInputs[field]}
	for _, cr := range criteria {
		d.Scores[cr.Name], _ = strconv.Atoi(keep(c.FormValue(cr.Name), 3))
	}
	return s.renderReview(c, status, d, &formError{Msg: msg, Field: d.Field})
}
