package pages

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The alert subscription forms (issue 11): a risk manager subscribes to
// the e-mails of a rule (its row on /alertes/regles) or of a site
// (/sites/{id}), and unsubscribes there or from the list of their
// subscriptions on /alertes/regles. They call the alert service's
// Subscribe and Unsubscribe, as POST and DELETE /api/v1/alert-subscriptions.

const subscriptionsPath = "/alertes/abonnements"

// subscriptionFormReq names a rule or a site (one of the two).
type subscriptionFormReq struct {
	CSRF   string `json:"csrf"`
	RuleID string `json:"rule_id"`
	Site   string `json:"site"`
	Retour string `json:"retour"`
}

func (s *Pages) subscriptionRoutes() []*web.Route {
	f := &pageForm{srv: s, onError: s.alertPageFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Seuls les gestionnaires des risques, les agents et les administrateurs s'abonnent aux alertes.",
		civic.ENOTFOUND:  "Cette règle n'existe pas.",
		civic.EINVALID:   "Choisissez une règle ou un site.",
	}}
	wr := func(r *web.Route) *web.Route {
		r.Tag, r.Access, r.Roles, r.Produces, r.Status, r.Body, r.Form = "pages", web.SignedIn, web.AlertReaders, "text/html", 303, subscriptionFormReq{}, f
		return r
	}
	return []*web.Route{
		wr(&web.Route{Method: "POST", Path: subscriptionsPath, Summary: "Subscribe form post (rule_id or site): receive the alerts' e-mails like POST /api/v1/alert-subscriptions, then 303 to retour (default the rules page)", Handler: s.subscribePost}),
		wr(&web.Route{Method: "POST", Path: subscriptionsPath + "/suppression", Summary: "Unsubscribe form post (rule_id or site), like DELETE /api/v1/alert-subscriptions, then 303 to retour (default the rules page)", Handler: s.alertUnsubscribePost}),
	}
}

func (s *Pages) subscribePost(c *fiber.Ctx) error {
	return s.subscriptionChange(c, true)
}

func (s *Pages) alertUnsubscribePost(c *fiber.Ctx) error {
	return s.subscriptionChange(c, false)
}

func (s *Pages) subscriptionChange(c *fiber.Ctx, on bool) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	rule, site := c.FormValue("rule_id"), c.FormValue("site")
	if (rule == "") == (site == "") {
		return civic.FieldError("rule_id", "a rule or a site, one of the two")
	}
	user := web.Caller(c).User.ID
	flash := "abonnement-supprime"
	if on {
		if rule != "" { // a site is checked by its form (smartdeal.ValidID), as by the JSON route
			if _, err := svc.Rule(ctx(c), rule); err != nil {
				return AlertErr(err)
			}
		}
		if err := svc.Subscribe(ctx(c), user, rule, site); err != nil {
			return AlertErr(err)
		}
		flash = "abonnement-enregistre"
	} else if err := svc.Unsubscribe(ctx(c), user, rule, site); err != nil {
		return AlertErr(err)
	}
	s.setFlash(c, flash)
	to := rulesPath
	if r := c.FormValue(returnField); r != "" {
		to = safeReturn(r)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// subscriptionsOf lists the caller's subscriptions for a page, and says
// which rules and sites they cover.
func (s *Pages) subscriptionsOf(c *fiber.Ctx, svc Alerts) (rows []subscriptionRow, rules, sites map[string]bool, err error) {
	subs, err := svc.Subscriptions(ctx(c), web.Caller(c).User.ID)
	if err != nil {
		return nil, nil, nil, AlertErr(err)
	}
	rules, sites = map[string]bool{}, map[string]bool{}
	for _, sub := range subs {
		rows = append(rows, subscriptionRowOf(sub))
		if sub.RuleID != "" {
			rules[sub.RuleID] = true
		} else {
			sites[sub.Site] = true
		}
	}
	return rows, rules, sites, nil
}

func subscriptionRowOf(sub alerting.Subscription) subscriptionRow {
	r := subscriptionRow{RuleID: sub.RuleID, Site: sub.Site}
	switch {
	case sub.Site != "":
		r.What, r.Href = "site "+sub.Site, "/sites/"+url.PathEscape(sub.Site)
	case sub.RuleName != "":
		r.What = "règle « " + sub.RuleName + " »"
	default:
		r.What = "règle supprimée (" + sub.RuleID + ")"
	}
	return r
}
