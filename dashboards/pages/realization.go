package pages

import (
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The realization of a selected proposal on its page: the updates (text,
// milestone and date, progress, actual cost) against the estimate and the
// campaign's budget, and for administrators and field agents the form that
// posts one, through actions.PostRealization like the JSON route.

func init() {
	maps.Copy(flashMessages, map[string]string{
		"realisation-publiee": "Nouvelle étape publiée ; les personnes qui suivent la proposition sont prévenues par e-mail.",
	})
}

type realizationFormReq struct {
	CSRF          string `json:"csrf"`
	Body          string `json:"body"`
	Milestone     string `json:"milestone"`
	MilestoneDate string `json:"milestone_date"` // YYYY-MM-DD
	Progress      string `json:"progress"`       // 0 to 100
	ActualCost    string `json:"actual_cost_eur"`
}

// realizationView is the page's realization section.
type realizationView struct {
	Updates                            []realizationRow
	Progress, Actual, Estimate, Budget string
	HasProgress, HasActual             bool
	ProgressValue                      int
	CanPost                            bool
	Draft                              realizationDraft
}

type realizationRow struct {
	*civic.RealizationUpdate
	Date, ISO, MilestoneOn, Progress, Actual string
}

type realizationDraft struct {
	Body, Milestone, MilestoneDate, Progress, ActualCost, Field string
}

var realizationInputs = map[string]string{"body": "realisation-texte", "milestone": "realisation-etape", "milestone_date": "realisation-date",
	"progress": "realisation-avancement", "actual_cost_eur": "realisation-cout"}

func (s *Pages) realizationForm() *pageForm {
	return &pageForm{srv: s, onError: s.realizationFailed, messages: map[string]string{
		civic.EFORBIDDEN: "La réalisation est suivie par les administrateurs et les agents de terrain.",
		civic.ECONFLICT:  "Seule une proposition retenue a une réalisation.",
		civic.EINVALID:   "Vérifiez le champ signalé : un texte (5 000 caractères au plus), une étape nommée pour une date, un avancement de 0 à 100, un coût en euros.",
	}}
}

func (s *Pages) realizationRoutes() []*web.Route {
	f := s.realizationForm()
	return []*web.Route{
		{Method: "POST", Path: "/idees/:id/realisation", Tag: "pages", Summary: "Realization update form post, like POST /api/v1/ideas/{id}/realization, then 303 to the proposal page", Access: web.SignedIn, Roles: civic.RealizationRoles, Body: realizationFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.realizationPost},
	}
}

// addRealization fills the realization section of a selected proposal's
// page: its updates (one query) and its campaign's budget (one more).
func (s *Pages) addRealization(c *fiber.Ctx, v *ideaView, f ideaForm) error {
	p := v.P
	if !p.Status.Spends() {
		return nil
	}
	us, err := s.act.RealizationUpdates(c, p.ID)
	if err != nil {
		return err
	}
	cp, err := s.store.Campaign(ctx(c), p.CampaignID)
	if err != nil {
		return err
	}
	sum := civic.SumRealization(us)
	r := &realizationView{Estimate: fr.Thousands(p.EstimatedCostEUR) + " €", Budget: fr.Thousands(cp.BudgetEUR) + " €"}
	if sum.Progress != nil {
		r.HasProgress, r.ProgressValue, r.Progress = true, *sum.Progress, strconv.Itoa(*sum.Progress)+" %"
	}
	if sum.ActualCostEUR != nil {
		r.HasActual, r.Actual = true, fr.Thousands(*sum.ActualCostEUR)+" €"
	}
	for _, u := range us {
		row := realizationRow{RealizationUpdate: u, Date: fr.Date(u.Created), ISO: u.Created.UTC().Format(time.RFC3339)}
		if u.MilestoneDate != nil {
			row.MilestoneOn = fr.Day(*u.MilestoneDate)
		}
		if u.Progress != nil {
			row.Progress = strconv.Itoa(*u.Progress) + " %"
		}
		if u.ActualCostEUR != nil {
			row.Actual = fr.Thousands(*u.ActualCostEUR) + " €"
		}
		r.Updates = append(r.Updates, row)
	}
	if v.Session != nil && v.Session.Role.In(civic.RealizationRoles...) {
		r.CanPost = true
		if f.Update != nil {
			r.Draft = *f.Update
		}
	}
	v.Realization = r
	return nil
}

func formOptInt(c *fiber.Ctx, name string) (*int64, error) {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return nil, nil
	}
	n, err := formInt(c, name, name)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func (s *Pages) realizationPost(c *fiber.Ctx) error {
	id := c.Params("id")
	r := actions.RealizationReq{Body: c.FormValue("body"), Milestone: c.FormValue("milestone")}
	if d := strings.TrimSpace(c.FormValue("milestone_date")); d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return civic.FieldError("milestone_date", "want YYYY-MM-DD")
		}
		r.MilestoneDate = &t
	}
	prog, err := formOptInt(c, "progress")
	if err != nil {
		return err
	}
	if prog != nil {
		if *prog > 100 {
			return civic.FieldError("progress", "want 0 to 100")
		}
		n := int(*prog)
		r.Progress = &n
	}
	if r.ActualCostEUR, err = formOptInt(c, "actual_cost_eur"); err != nil {
		return err
	}
	if _, err := s.act.PostRealization(c, id, r); err != nil {
		return err
	}
	s.setFlash(c, "realisation-publiee")
	return c.Redirect("/idees/"+url.PathEscape(id)+"#realisation", fiber.StatusSeeOther)
}

// realizationFailed shows the proposal page again with the error and what
// was typed, the refused field focused.
func (s *Pages) realizationFailed(c *fiber.Ctx, status int, msg, field string) error {
	if status == fiber.StatusUnauthorized {
		return s.renderSignIn(c, status, signInView{Retour: "/idees/" + url.PathEscape(c.Params("id"))}, msg)
	}
	if status == fiber.StatusNotFound || status == fiber.StatusForbidden {
		return s.renderError(c, status, msg)
	}
	d := &realizationDraft{Body: keep(c.FormValue("body"), 25_000), Milestone: keep(c.FormValue("milestone"), 1000),
		MilestoneDate: keep(c.FormValue("milestone_date"), 20), Progress: keep(c.FormValue("progress"), 10),
		ActualCost: keep(c.FormValue("actual_cost_eur"), 30), Field: realizationInputs[field]}
	return s.renderIdea(c, status, ideaForm{Error: &formError{Msg: msg, Field: d.Field}, Update: d})
}
