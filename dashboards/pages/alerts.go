package pages

import (
	"context"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The risk managers' pages (issue 11): the dashboard of every site
// (/tableau-de-bord), the alerts with their acknowledge and close forms
// (/alertes, /alertes/{id}), and the rules (/alertes/regles…) with their
// "try it on the last 7 days" preview. They call the same alert service as
// the JSON routes of dashboards/api (alerts.go), work without JavaScript,
// and say every vigilance level with a word and an icon beside its colour.

// Alerts is what the pages and the JSON routes call of the alert service
// (*alerting.Service).
type Alerts interface {
	Rules(ctx context.Context) ([]*alerting.Rule, error)
	Rule(ctx context.Context, id string) (*alerting.Rule, error)
	CreateRule(ctx context.Context, actor string, r *alerting.Rule) error
	UpdateRule(ctx context.Context, actor string, r *alerting.Rule) error
	DeleteRule(ctx context.Context, actor, id string) error
	Preview(ctx context.Context, r *alerting.Rule, start, stop time.Time, every time.Duration) (*alerting.Preview, error)
	Alerts(ctx context.Context, f alerting.AlertFilter) ([]*alerting.Alert, error)
	Alert(ctx context.Context, id string) (*alerting.Alert, error)
	Acknowledge(ctx context.Context, id, actor, comment string) (*alerting.Alert, error)
	Close(ctx context.Context, id, actor, comment string) (*alerting.Alert, error)
	History(ctx context.Context, id string) ([]alerting.Transition, error)
	Subscribe(ctx context.Context, userID, ruleID, site string) error
	Unsubscribe(ctx context.Context, userID, ruleID, site string) error
	Subscriptions(ctx context.Context, userID string) ([]alerting.Subscription, error)
	Atmo(ctx context.Context, site string, day time.Time) (*atmo.Index, error)
}

// AlertDeps are the risk managers' pages' collaborators.
type AlertDeps struct {
	Service    Alerts
	Dashboards *app.Dashboards
}

// Paths of the risk managers' pages.
const (
	DashboardPath = "/tableau-de-bord"
	alertsPath    = "/alertes"
	rulesPath     = "/alertes/regles"
	newRulePath   = "/alertes/regles/nouvelle"
	previewPath   = "/alertes/regles/essai"
)

// AlertErr maps the alert domain's errors to civic ones: ErrInvalid a
// field error (the message's first word), ErrNotFound, ErrTransition and
// ErrConflict. The JSON routes and the forms both use it.
func AlertErr(err error) error {
	var ce *civic.Error
	switch {
	case err == nil, errors.As(err, &ce):
		return err
	case errors.Is(err, alerting.ErrInvalid):
		msg := strings.TrimSuffix(err.Error(), ": "+alerting.ErrInvalid.Error())
		if field, rest, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(field, " ") {
			return civic.FieldError(field, "%s", rest)
		}
		return civic.Errorf(civic.EINVALID, "%s", msg)
	case errors.Is(err, alerting.ErrNotFound):
		return civic.Errorf(civic.ENOTFOUND, "no such alert or rule")
	case errors.Is(err, alerting.ErrTransition):
		return civic.Errorf(civic.ECONFLICT, "%s", strings.TrimSuffix(err.Error(), ": "+alerting.ErrTransition.Error()))
	case errors.Is(err, alerting.ErrConflict):
		return civic.Errorf(civic.ECONFLICT, "the alert changed meanwhile; reload it")
	}
	return err
}

func (s *Pages) alertService() (Alerts, error) {
	if s.alert.Service == nil || s.alert.Dashboards == nil {
		return nil, civic.Errorf(civic.EUNAVAILABLE, "alerts are not configured on this server")
	}
	return s.alert.Service, nil
}

// alertRoutes are the risk managers' pages and forms.
func (s *Pages) alertRoutes() []*web.Route {
	pageF := &pageForm{srv: s, onError: s.alertPageFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Cette page est réservée aux gestionnaires des risques, aux agents et aux administrateurs.",
		civic.ENOTFOUND:  "Cette alerte ou cette règle n'existe pas.",
	}}
	alertF := &pageForm{srv: s, onError: s.alertFormFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Seuls les gestionnaires des risques et les administrateurs prennent en compte et clôturent les alertes.",
		civic.ENOTFOUND:  "Cette alerte n'existe pas.",
		civic.ECONFLICT:  "Cette action n'est pas possible au statut actuel de l'alerte : rechargez la page.",
		civic.EINVALID:   "Le commentaire est trop long (2 000 caractères au plus).",
	}}
	ruleF := &pageForm{srv: s, onError: s.ruleFormFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Seuls les gestionnaires des risques et les administrateurs gèrent les règles d'alerte.",
		civic.ENOTFOUND:  "Cette règle n'existe pas.",
		civic.EINVALID:   "La règle contient une erreur : voyez le champ signalé.",
	}}
	rd := func(r *web.Route) *web.Route {
		r.Tag, r.Access, r.Roles, r.Produces = "pages", web.SignedIn, web.AlertReaders, "text/html"
		return r
	}
	wr := func(r *web.Route) *web.Route {
		r.Tag, r.Access, r.Roles, r.Produces, r.Status = "pages", web.SignedIn, web.AlertManagers, "text/html", 303
		return r
	}
	return append(s.siteRoutes(pageF), []*web.Route{
		rd(&web.Route{Method: "GET", Path: DashboardPath, Summary: "Page (HTML, French): the risk managers' dashboard: every site's state (vigilance, hors ligne, pas de données), latest values with their age, the day's ATMO index; the open alerts first; the active missions and their drones (anonymous visitors are sent to the sign-in page)", Form: pageF, Handler: s.dashboardPage}),
		rd(&web.Route{Method: "GET", Path: alertsPath, Summary: "Page (HTML, French): the open alerts and those of the last 7 days, with the acknowledge and close forms", Form: pageF, Handler: s.alertsPage}),
		// The rule pages before /alertes/:id, which would take "regles" for an id.
		rd(&web.Route{Method: "GET", Path: rulesPath, Summary: "Page (HTML, French): the alert rules, with enable, disable and delete buttons", Form: pageF, Handler: s.rulesPage}),
		{Method: "GET", Path: newRulePath, Tag: "pages", Summary: "Page (HTML, French): the form of a new alert rule", Access: web.SignedIn, Roles: web.AlertManagers, Produces: "text/html", Form: pageF, Handler: s.newRulePage},
		wr(&web.Route{Method: "POST", Path: newRulePath, Summary: "New rule form post: created like POST /api/v1/alert-rules, then 303 to the rules (errors beside their field)", Body: ruleFormReq{}, Form: ruleF, Handler: s.ruleCreatePost}),
		{Method: "POST", Path: previewPath, Tag: "pages", Summary: "Rule form post of the button « Essayer sur les 7 derniers jours »: the form again with how many times the rule would have fired and when, like POST /api/v1/alert-rules/preview; nothing is stored", Access: web.SignedIn, Roles: web.AlertManagers, Produces: "text/html", Body: ruleFormReq{}, Form: ruleF, Handler: s.rulePreviewPost},
		{Method: "GET", Path: rulesPath + "/:id", Tag: "pages", Summary: "Page (HTML, French): the form of an alert rule, to change it", Access: web.SignedIn, Roles: web.AlertManagers, Produces: "text/html", Form: pageF, Handler: s.editRulePage},
		wr(&web.Route{Method: "POST", Path: rulesPath + "/:id", Summary: "Rule form post: replaced like PUT /api/v1/alert-rules/{id}, then 303 to the rules", Body: ruleFormReq{}, Form: ruleF, Handler: s.ruleUpdatePost}),
		wr(&web.Route{Method: "POST", Path: rulesPath + "/:id/activation", Summary: "Enable (active=oui) or disable a rule, like PUT /api/v1/alert-rules/{id}/enabled, then 303 to the rules", Body: ruleActivationReq{}, Form: alertF, Handler: s.ruleActivationPost}),
		wr(&web.Route{Method: "POST", Path: rulesPath + "/:id/suppression", Summary: "Delete a rule (its open alerts are closed), like DELETE /api/v1/alert-rules/{id}, then 303 to the rules", Body: csrfFormReq{}, Form: alertF, Handler: s.ruleDeletePost}),
		rd(&web.Route{Method: "GET", Path: alertsPath + "/:id", Summary: "Page (HTML, French): an alert, its transitions (who, when, comment) and the readings that fired it, with the acknowledge and close forms", Form: pageF, Handler: s.alertPage}),
		wr(&web.Route{Method: "POST", Path: alertsPath + "/:id/prise-en-compte", Summary: "Acknowledge form post (comment), like POST /api/v1/alerts/{id}/acknowledge, then 303 to retour (default the alert's page)", Body: alertFormReq{}, Form: alertF, Handler: s.acknowledgePost}),
		wr(&web.Route{Method: "POST", Path: alertsPath + "/:id/cloture", Summary: "Close form post (comment) of a cleared alert, like POST /api/v1/alerts/{id}/close, then 303 to retour (default the alert's page)", Body: alertFormReq{}, Form: alertF, Handler: s.alertClosePost}),
	}...)
}

type alertFormReq struct {
	CSRF    string `json:"csrf"`
	Comment string `json:"comment"`
	Retour  string `json:"retour"`
}

type ruleActivationReq struct {
	CSRF   string `json:"csrf"`
	Active string `json:"active"` // oui or non
}

// ruleFormReq is the rule form: durations in minutes, thresholds as
// French numbers (a comma or a point), one threshold and optional end
// threshold per vigilance level (an empty threshold leaves the level out).
type ruleFormReq struct {
	CSRF          string `json:"csrf"`
	Name          string `json:"name"`
	Site          string `json:"site"`
	Device        string `json:"device"`
	Quantity      string `json:"quantity"`
	Kind          string `json:"kind"`
	HoldMinutes   string `json:"hold"`
	WindowMinutes string `json:"window"`
	Enabled       string `json:"enabled"` // oui
	JauneSeuil    string `json:"jaune_seuil"`
	JauneFin      string `json:"jaune_fin"`
	OrangeSeuil   string `json:"orange_seuil"`
	OrangeFin     string `json:"orange_fin"`
	RougeSeuil    string `json:"rouge_seuil"`
	RougeFin      string `json:"rouge_fin"`
}

// --- the dashboard ---

func (s *Pages) dashboardPage(c *fiber.Ctx) error {
	if _, err := s.alertService(); err != nil {
		return err
	}
	d, err := s.alert.Dashboards.View(ctx(c))
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	v := &dashboardView{Page: Page{Title: "Tableau de bord des risques", Session: se}, Generated: fr.Time(d.Generated),
		LatestDown: d.LatestErr != nil, AtmoDown: d.AtmoErr != nil, CanManage: canManageAlerts(c)}
	for _, a := range d.Open {
		v.Open = append(v.Open, alertRowOf(a, d.Generated))
	}
	for _, a := range d.Recent {
		v.Recent = append(v.Recent, alertRowOf(a, d.Generated))
	}
	for _, ds := range d.Sites {
		row := dashSiteRow{ID: ds.Site.ID, Name: ds.Site.Name, State: siteStateOf(ds.State), Offline: ds.Offline, Devices: len(ds.Devices), Alerts: len(ds.Alerts)}
		if ds.Atmo != nil {
			a := atmoOf(ds.Atmo)
			row.Atmo = &a
		}
		for _, dd := range ds.Devices {
			for _, l := range dd.Latest {
				row.Values = append(row.Values, latestOf(l, d.Generated))
			}
		}
		v.Sites = append(v.Sites, row)
		v.Counts[ds.State.Rank()].N++
	}
	for i, st := range []app.SiteState{app.StateRouge, app.StateOrange, app.StateJaune, app.StateOffline, app.StateNoData, app.StateNormal} {
		v.Counts[i].State = siteStateOf(st)
	}
	for _, m := range d.Missions {
		mr := dashMission{ID: m.Mission.ID, Title: m.Mission.Title, Site: m.Mission.SiteID, Drone: m.Mission.DroneID, DroneState: "inconnu"}
		if m.Site != nil {
			mr.Site = m.Site.Name
		}
		if m.Drone != nil {
			switch m.Drone.Status {
			case "online":
				mr.DroneState = "en ligne"
			case "offline":
				mr.DroneState = "hors ligne"
			}
			if m.Drone.LastSeen != nil {
				mr.Seen = "vu " + ago(d.Generated.Sub(*m.Drone.LastSeen))
			}
		}
		if m.Mission.Started != nil {
			mr.Started = fr.Time(*m.Mission.Started)
		}
		v.Missions = append(v.Missions, mr)
	}
	return s.render(c, "tableau-de-bord.html", v)
}

func canManageAlerts(c *fiber.Ctx) bool {
	p := web.Caller(c)
	return p != nil && p.User.Role.In(web.AlertManagers...)
}

// ago says a duration in French ("il y a 5 min").
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "il y a moins d'une minute"
	case d < time.Hour:
		return "il y a " + strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return "il y a " + strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return "il y a " + strconv.Itoa(int(d/(24*time.Hour))) + " jours"
}

// levelBadges are the words and classes (colour and icon, layout.html) of
// the vigilance levels and site states: the word always with the colour.
var levelBadges = map[string]badge{
	string(alerting.Rouge):   {Word: "vigilance rouge", Class: "niveau-rouge"},
	string(alerting.Orange):  {Word: "vigilance orange", Class: "niveau-orange"},
	string(alerting.Jaune):   {Word: "vigilance jaune", Class: "niveau-jaune"},
	string(app.StateOffline): {Word: "hors ligne", Class: "niveau-hors-ligne"},
	string(app.StateNoData):  {Word: "pas de données", Class: "niveau-sans-donnees"},
	string(app.StateNormal):  {Word: "normal", Class: "niveau-normal"},
}

func siteStateOf(st app.SiteState) badge { return levelBadges[string(st)] }

func severityOf(sv alerting.Severity) badge {
	if b, ok := levelBadges[string(sv)]; ok {
		return b
	}
	return badge{Word: string(sv)}
}

func atmoOf(x *atmo.Index) atmoView {
	v := atmoView{Day: x.Day, Class: int(x.Class), Label: x.Label, Colour: x.Colour, Provisional: x.Provisional, Partial: x.Partial}
	if x.Class == atmo.None {
		v.Label = "indisponible"
	}
	for _, p := range x.Dominant {
		v.Dominant = append(v.Dominant, pollutantFR(p))
	}
	for _, p := range x.Missing {
		v.Missing = append(v.Missing, pollutantFR(p))
	}
	return v
}

func pollutantFR(p atmo.Pollutant) string {
	switch p {
	case atmo.PM25:
		return "PM2,5"
	case atmo.PM10:
		return "PM10"
	}
	return strings.ToUpper(string(p))
}

func latestOf(l *series.Latest, now time.Time) latestValue {
	return latestValue{Device: l.Device, Quantity: fr.Quantity(l.Quantity), Value: fr.Num(l.Value), Unit: fr.Unit(l.Unit),
		Age: ago(now.Sub(l.Time)), Stale: now.Sub(l.Time) > time.Hour, At: fr.Time(l.Time)}
}

func alertRowOf(a *alerting.Alert, now time.Time) alertRow {
	r := alertRow{ID: a.ID, RuleID: a.RuleID, Rule: a.RuleName, Level: severityOf(a.Severity), Status: a.Status.Label(), Site: a.Series.Site,
		Device: a.Series.Device, Quantity: fr.Quantity(a.Series.Quantity), Value: fr.Num(a.Value), Threshold: fr.Num(a.Threshold),
		Unit: fr.Unit(a.Series.Unit), Fired: fr.Time(a.FiredAt), Age: ago(now.Sub(a.FiredAt)), Past: a.Past,
		CanAck: a.AckAt == nil && (a.Status == alerting.Active || a.Status == alerting.Cleared), CanClose: a.Status == alerting.Cleared,
		AckComment: a.AckComment}
	if a.AckAt != nil {
		r.Acked = fr.Time(*a.AckAt)
	}
	if a.ClearedAt != nil {
		r.Cleared = fr.Time(*a.ClearedAt)
	}
	switch a.Kind {
	case alerting.Offline:
		r.Quantity, r.Value, r.Threshold, r.Unit = "état de l'appareil", "hors ligne", "", ""
	case alerting.NoData:
		r.Quantity = fr.Quantity(a.Series.Quantity) + " (silence)"
		r.Value, r.Threshold, r.Unit = fr.Duration(time.Duration(a.Value*float64(time.Second))), "", ""
	case alerting.Atmo:
		r.Quantity, r.Unit = "indice ATMO", ""
		r.Value = atmo.Class(int(a.Value)).Label()
		r.Threshold = atmo.Class(int(a.Threshold)).Label()
	}
	return r
}

// --- the alerts ---

func (s *Pages) alertsPage(c *fiber.Ctx) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	now := s.now().UTC()
	open, err := svc.Alerts(ctx(c), alerting.AlertFilter{Open: true, Limit: 1000})
	if err != nil {
		return AlertErr(err)
	}
	recent, err := svc.Alerts(ctx(c), alerting.AlertFilter{Since: now.Add(-7 * 24 * time.Hour), Limit: 200})
	if err != nil {
		return AlertErr(err)
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	v := &alertsView{Page: Page{Title: "Alertes", Session: se}, CanManage: canManageAlerts(c)}
	for _, a := range open {
		v.Open = append(v.Open, alertRowOf(a, now))
	}
	for _, a := range recent {
		if !a.Status.Open() {
			v.Recent = append(v.Recent, alertRowOf(a, now))
		}
	}
	return s.render(c, "alertes.html", v)
}

var transitionFR = map[alerting.Status]string{
	alerting.Active: "déclenchée", alerting.Acknowledged: "prise en compte", alerting.Cleared: "terminée", alerting.Closed: "close",
}

func (s *Pages) alertPage(c *fiber.Ctx) error { return s.renderAlert(c, fiber.StatusOK, nil, "") }

func (s *Pages) renderAlert(c *fiber.Ctx, status int, fe *formError, comment string) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	a, err := svc.Alert(ctx(c), c.Params("id"))
	if err != nil {
		return AlertErr(err)
	}
	trs, err := svc.History(ctx(c), a.ID)
	if err != nil {
		return AlertErr(err)
	}
	names, err := s.userNames(c, trs)
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	row := alertRowOf(a, now)
	v := &alertView{Page: Page{Title: "Alerte : " + a.RuleName + " (" + severityOf(a.Severity).Word + ")", Session: se, Error: fe}, A: row,
		From: fr.Time(a.From), Peak: fr.Num(a.Peak), CanManage: canManageAlerts(c), Comment: comment}
	if a.ConditionEnd != nil {
		v.ConditionEnd = fr.Time(*a.ConditionEnd)
	}
	if a.Kind != alerting.Offline && a.Kind != alerting.Atmo {
		// The readings that fired it, with an hour either side.
		q := url.Values{"start": {a.From.Add(-time.Hour).UTC().Format(time.RFC3339)}, "stop": {a.FiredAt.Add(time.Hour).UTC().Format(time.RFC3339)}}
		v.SeriesLink = "/api/v1/series/" + url.PathEscape(a.Series.Site) + "/" + url.PathEscape(a.Series.Device) + "/" + url.PathEscape(a.Series.Quantity) + "?" + q.Encode()
	}
	for _, t := range trs {
		by := t.By
		if by == alerting.Evaluator {
			by = "évaluateur automatique"
		} else if n, ok := names[by]; ok {
			by = n
		} else {
			by = "compte supprimé"
		}
		v.Transitions = append(v.Transitions, transitionRow{At: fr.Time(t.At), To: transitionFR[t.To], By: by, Comment: t.Comment})
	}
	c.Status(status)
	return s.render(c, "alerte.html", v)
}

// userNames names the people of the transitions in one query.
func (s *Pages) userNames(c *fiber.Ctx, trs []alerting.Transition) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range trs {
		if t.By == alerting.Evaluator || t.By == "" {
			continue
		}
		if _, ok := out[t.By]; ok {
			continue
		}
		u, err := s.store.UserByID(ctx(c), t.By)
		if err != nil {
			if civic.ErrorCode(err) == civic.ENOTFOUND {
				continue
			}
			return nil, err
		}
		out[t.By] = u.Name
	}
	return out, nil
}

func (s *Pages) acknowledgePost(c *fiber.Ctx) error {
	return s.alertChange(c, Alerts.Acknowledge, "alerte-prise-en-compte")
}

func (s *Pages) alertClosePost(c *fiber.Ctx) error {
	return s.alertChange(c, Alerts.Close, "alerte-close")
}

func (s *Pages) alertChange(c *fiber.Ctx, change func(Alerts, context.Context, string, string, string) (*alerting.Alert, error), flash string) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	actor := web.Caller(c).User.ID
	a, err := change(svc, ctx(c), c.Params("id"), actor, c.FormValue("comment"))
	if err != nil {
		return AlertErr(err)
	}
	action := "alert.acknowledge"
	if a.Status == alerting.Closed {
		action = "alert.close"
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: action, Target: a.ID})
	s.setFlash(c, flash)
	to := alertsPath + "/" + a.ID
	if r := c.FormValue(returnField); r != "" {
		to = safeReturn(r)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// alertPageFailed answers a refused page: to the sign-in page when signed
// out, a French error page otherwise.
func (s *Pages) alertPageFailed(c *fiber.Ctx, status int, msg, _ string) error {
	if status == fiber.StatusUnauthorized {
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	return s.renderError(c, status, msg)
}

// alertFormFailed shows the alert's page again with the message and the
// comment being written (a refused acknowledgement or closing).
func (s *Pages) alertFormFailed(c *fiber.Ctx, status int, msg, _ string) error {
	p := web.Caller(c)
	if status == fiber.StatusUnauthorized || status == fiber.StatusNotFound || p == nil || !p.User.Role.In(web.AlertReaders...) ||
		!strings.HasPrefix(c.Path(), alertsPath+"/") || strings.HasPrefix(c.Path(), rulesPath) {
		return s.renderError(c, status, msg)
	}
	comment := ""
	if status != fiber.StatusForbidden { // a bad CSRF token: nothing of what was posted comes back
		comment = keep(c.FormValue("comment"), alerting.MaxCommentLen+100)
	}
	return s.renderAlert(c, status, &formError{Msg: msg, Field: "commentaire"}, comment)
}

// --- the rules ---

var ruleKindFR = map[alerting.Kind]string{
	alerting.Above: "au-dessus d'un seuil", alerting.Below: "en dessous d'un seuil", alerting.Rate: "variation rapide (hausse ou baisse sur une fenêtre)",
	alerting.NoData: "absence de données", alerting.Offline: "appareil hors ligne", alerting.Atmo: "indice ATMO du jour",
}

var kindOrder = []alerting.Kind{alerting.Above, alerting.Below, alerting.Rate, alerting.NoData, alerting.Offline, alerting.Atmo}

func (s *Pages) rulesPage(c *fiber.Ctx) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	rs, err := svc.Rules(ctx(c))
	if err != nil {
		return AlertErr(err)
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	subs, subscribed, _, err := s.subscriptionsOf(c, svc)
	if err != nil {
		return err
	}
	v := &rulesView{Page: Page{Title: "Règles d'alerte", Session: se}, CanManage: canManageAlerts(c), Subscriptions: subs}
	for _, r := range rs {
		row := ruleRow{ID: r.ID, Name: r.Name, Enabled: r.Enabled, Kind: ruleKindFR[r.Kind], Watch: watchOf(r), Subscribed: subscribed[r.ID]}
		for _, l := range r.Levels {
			lv := ruleLevel{Level: severityOf(l.Severity)}
			switch r.Kind {
			case alerting.NoData, alerting.Offline:
				lv.Text = "après " + fr.Duration(r.Hold)
			case alerting.Atmo:
				lv.Text = "à partir de « " + atmo.Class(int(l.Threshold)).Label() + " »"
			default:
				lv.Text = "seuil " + fr.Num(l.Threshold)
				if l.Clear != nil {
					lv.Text += ", fin " + fr.Num(*l.Clear)
				}
			}
			row.Levels = append(row.Levels, lv)
		}
		v.Rules = append(v.Rules, row)
	}
	return s.render(c, "regles.html", v)
}

func watchOf(r *alerting.Rule) string {
	site, dev := r.Site, r.Device
	if site == "" {
		site = "tous les sites"
	} else {
		site = "site " + site
	}
	if dev == "" {
		dev = "tous les appareils"
	} else {
		dev = "appareil " + dev
	}
	w := site + ", " + dev
	if r.Quantity != "" {
		w = fr.Quantity(r.Quantity) + " — " + w
	}
	return w
}

// draftOf is the form of a stored rule.
func draftOf(r *alerting.Rule) ruleDraft {
	d := ruleDraft{ID: r.ID, Name: r.Name, Site: r.Site, Device: r.Device, Quantity: r.Quantity, Kind: string(r.Kind), Enabled: r.Enabled,
		Hold: minutes(r.Hold), Window: minutes(r.Window), Thresholds: map[string]string{}, Clears: map[string]string{}}
	for _, l := range r.Levels {
		d.Thresholds[string(l.Severity)] = formNum(l.Threshold)
		if l.Clear != nil {
			d.Clears[string(l.Severity)] = formNum(*l.Clear)
		}
	}
	return d
}

func minutes(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strings.Replace(strconv.FormatFloat(d.Minutes(), 'f', -1, 64), ".", ",", 1)
}

func formNum(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
}

// draftFrom is the posted form, as typed (kept to show it again).
func draftFrom(c *fiber.Ctx) ruleDraft {
	d := ruleDraft{ID: c.Params("id"), Name: keep(c.FormValue("name"), 400), Site: keep(c.FormValue("site"), 100), Device: keep(c.FormValue("device"), 100),
		Quantity: keep(c.FormValue("quantity"), 100), Kind: keep(c.FormValue("kind"), 20), Hold: keep(c.FormValue("hold"), 20),
		Window: keep(c.FormValue("window"), 20), Enabled: c.FormValue("enabled") == "oui", Thresholds: map[string]string{}, Clears: map[string]string{}}
	for _, sv := range []string{"jaune", "orange", "rouge"} {
		d.Thresholds[sv] = keep(c.FormValue(sv+"_seuil"), 40)
		d.Clears[sv] = keep(c.FormValue(sv+"_fin"), 40)
	}
	return d
}

// parseNum reads a French or English decimal number.
func parseNum(field, v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(v), ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, civic.FieldError(field, "a number")
	}
	return f, nil
}

func parseMinutes(field, v string) (time.Duration, error) {
	if strings.TrimSpace(v) == "" {
		return 0, nil
	}
	m, err := parseNum(field, v)
	if err != nil || m < 0 || m > 1e6 {
		return 0, civic.FieldError(field, "minutes")
	}
	return time.Duration(m * float64(time.Minute)).Round(time.Second), nil
}

// rule turns the form into a rule (validated by the service); the levels
// keep their form order, so levels[i] names a field of the form.
func (d ruleDraft) rule() (*alerting.Rule, []string, error) {
	hold, err := parseMinutes("hold", d.Hold)
	if err != nil {
		return nil, nil, err
	}
	window, err := parseMinutes("window", d.Window)
	if err != nil {
		return nil, nil, err
	}
	r := &alerting.Rule{ID: d.ID, Name: d.Name, Site: strings.TrimSpace(d.Site), Device: strings.TrimSpace(d.Device), Quantity: strings.TrimSpace(d.Quantity),
		Kind: alerting.Kind(d.Kind), Hold: hold, Window: window, Enabled: d.Enabled}
	var order []string
	for _, sv := range []string{"jaune", "orange", "rouge"} {
		th, cl := strings.TrimSpace(d.Thresholds[sv]), strings.TrimSpace(d.Clears[sv])
		if th == "" {
			if cl != "" {
				return nil, nil, civic.FieldError(sv+"_seuil", "a threshold with the end threshold")
			}
			continue
		}
		l := alerting.Level{Severity: alerting.Severity(sv)}
		if l.Threshold, err = parseNum(sv+"_seuil", th); err != nil {
			return nil, nil, err
		}
		if cl != "" {
			c, err := parseNum(sv+"_fin", cl)
			if err != nil {
				return nil, nil, err
			}
			l.Clear = &c
		}
		r.Levels = append(r.Levels, l)
		order = append(order, sv)
	}
	return r, order, nil
}

// ruleFields are the French messages of the rule form's fields, by the
// service's (or the form's) field name.
var ruleFields = map[string]string{
	"name":     "Donnez à la règle un nom de 1 à 200 caractères, sans caractère de contrôle.",
	"site":     "Identifiant de site invalide : lettres minuscules, chiffres, tirets et soulignés (laissez vide pour tous les sites).",
	"device":   "Identifiant d'appareil invalide : lettres minuscules, chiffres, tirets et soulignés (laissez vide pour tous les appareils ; une règle ATMO surveille des sites).",
	"quantity": "Indiquez la grandeur surveillée, par exemple water_level ou pm10.",
	"kind":     "Choisissez le type de règle.",
	"hold":     "Durée en minutes, de 0 à 10 080 (7 jours) ; au moins une seconde pour une absence de données.",
	"window":   "Fenêtre en minutes, de 1 seconde à 1 440 (24 heures), pour une variation rapide.",
	"levels":   "Renseignez au moins un niveau de vigilance (jaune, orange ou rouge) avec son seuil.",
	"seuil": "Seuil invalide : un nombre d'au plus un milliard en valeur absolue ; au-dessus d'un seuil, le seuil de fin ne le dépasse pas, " +
		"en dessous, il ne lui est pas inférieur ; une variation est non nulle ; un indice ATMO est une classe de 1 (bon) à 6 (extrêmement mauvais).",
}

// ruleField is the form input of a field the service or the form named,
// and its message.
func ruleField(field string, order []string) (input, msg string) {
	if strings.HasPrefix(field, "levels[") {
		i, err := strconv.Atoi(strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(field, "levels["), "]", 2)[0], "]"))
		if err == nil && i >= 0 && i < len(order) {
			suffix := "_seuil"
			if strings.HasSuffix(field, ".clear") {
				suffix = "_fin"
			}
			return order[i] + suffix, ruleFields["seuil"]
		}
		return "jaune_seuil", ruleFields["levels"]
	}
	if strings.HasSuffix(field, "_seuil") || strings.HasSuffix(field, "_fin") {
		return field, ruleFields["seuil"]
	}
	if field == "levels" {
		return "jaune_seuil", ruleFields["levels"]
	}
	if m, ok := ruleFields[field]; ok {
		return field, m
	}
	return "", ""
}

func (s *Pages) newRulePage(c *fiber.Ctx) error {
	if _, err := s.alertService(); err != nil {
		return err
	}
	d := ruleDraft{Kind: string(alerting.Above), Enabled: true, Thresholds: map[string]string{}, Clears: map[string]string{}}
	return s.renderRule(c, fiber.StatusOK, d, nil, nil)
}

func (s *Pages) editRulePage(c *fiber.Ctx) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	r, err := svc.Rule(ctx(c), c.Params("id"))
	if err != nil {
		return AlertErr(err)
	}
	return s.renderRule(c, fiber.StatusOK, draftOf(r), nil, nil)
}

func (s *Pages) renderRule(c *fiber.Ctx, status int, d ruleDraft, fe *formError, preview *previewView) error {
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	title := "Nouvelle règle d'alerte"
	action := newRulePath
	if d.ID != "" {
		title, action = "Règle d'alerte : "+d.Name, rulesPath+"/"+d.ID
	}
	v := &ruleView{Page: Page{Title: title, Session: se, Error: fe}, Draft: d, Action: action, Preview: preview}
	if d.ID != "" {
		_, subscribed, _, err := s.subscriptionsOf(c, s.alert.Service)
		if err != nil {
			return err
		}
		v.Subscribed = subscribed[d.ID]
	}
	if fe != nil {
		v.Field, v.FieldMsg = fe.Field, fe.Msg
	}
	for _, k := range kindOrder {
		v.Kinds = append(v.Kinds, ruleKindOption{Value: string(k), Label: ruleKindFR[k], Selected: string(k) == d.Kind})
	}
	for _, sv := range []alerting.Severity{alerting.Jaune, alerting.Orange, alerting.Rouge} {
		v.Levels = append(v.Levels, levelInput{Severity: string(sv), Level: severityOf(sv), Threshold: d.Thresholds[string(sv)], Clear: d.Clears[string(sv)]})
	}
	c.Status(status)
	return s.render(c, "regle.html", v)
}

func (s *Pages) ruleCreatePost(c *fiber.Ctx) error { return s.ruleSave(c, false) }

func (s *Pages) ruleUpdatePost(c *fiber.Ctx) error { return s.ruleSave(c, true) }

// ruleErr names the form's input of a refused rule.
func ruleErr(err error, order []string) error {
	err = AlertErr(err)
	var ce *civic.Error
	if errors.As(err, &ce) && ce.Code == civic.EINVALID {
		field, _ := ce.Extra["field"].(string)
		if input, msg := ruleField(field, order); input != "" {
			return &civic.Error{Code: civic.EINVALID, Message: ce.Message, Extra: map[string]any{"field": input, "detail_fr": msg}}
		}
	}
	return err
}

func (s *Pages) ruleSave(c *fiber.Ctx, update bool) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	r, order, err := draftFrom(c).rule()
	if err != nil {
		return ruleErr(err, order)
	}
	actor := web.Caller(c).User.ID
	action := "alert_rule.create"
	if update {
		action = "alert_rule.update"
		err = svc.UpdateRule(ctx(c), actor, r)
	} else {
		err = svc.CreateRule(ctx(c), actor, r)
	}
	if err != nil {
		return ruleErr(err, order)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: action, Target: r.ID})
	s.setFlash(c, map[bool]string{false: "regle-creee", true: "regle-modifiee"}[update])
	return c.Redirect(rulesPath, fiber.StatusSeeOther)
}

func (s *Pages) rulePreviewPost(c *fiber.Ctx) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	d := draftFrom(c)
	d.ID = c.FormValue("id")
	if d.ID != "" && !validRuleID(d.ID) {
		d.ID = ""
	}
	r, order, err := d.rule()
	if err != nil {
		return ruleErr(err, order)
	}
	stop := s.now().UTC()
	p, err := svc.Preview(ctx(c), r, stop.Add(-7*24*time.Hour), stop, 0)
	if err != nil {
		return ruleErr(err, order)
	}
	pv := &previewView{Count: len(p.Firings), Series: p.Series, Truncated: p.Truncated}
	for _, f := range p.Firings {
		row := previewRow{Level: severityOf(f.Severity), Series: f.Series.Site + " / " + f.Series.Device + " / " + fr.Quantity(f.Series.Quantity),
			At: fr.Time(f.At), Value: fr.Num(f.Value), Until: "toujours en cours à la fin"}
		if f.Until != nil {
			row.Until = fr.Time(*f.Until)
		}
		pv.Firings = append(pv.Firings, row)
	}
	return s.renderRule(c, fiber.StatusOK, d, nil, pv)
}

func validRuleID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ruleFormFailed shows the rule form again with what was typed and the
// message beside the field.
func (s *Pages) ruleFormFailed(c *fiber.Ctx, status int, msg, field string) error {
	p := web.Caller(c)
	if status == fiber.StatusUnauthorized || status == fiber.StatusNotFound || p == nil || !p.User.Role.In(web.AlertManagers...) || status >= 500 {
		return s.renderError(c, status, msg)
	}
	if status == fiber.StatusForbidden { // a bad CSRF token: nothing of what was posted comes back
		return s.renderError(c, status, msg)
	}
	d := draftFrom(c)
	if c.Path() == previewPath {
		if id := c.FormValue("id"); validRuleID(id) {
			d.ID = id
		}
	}
	return s.renderRule(c, status, d, &formError{Msg: msg, Field: field}, nil)
}

func (s *Pages) ruleActivationPost(c *fiber.Ctx) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	r, err := svc.Rule(ctx(c), c.Params("id"))
	if err != nil {
		return AlertErr(err)
	}
	r.Enabled = c.FormValue("active") == "oui"
	actor := web.Caller(c).User.ID
	if err := svc.UpdateRule(ctx(c), actor, r); err != nil {
		return AlertErr(err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: map[bool]string{true: "alert_rule.enable", false: "alert_rule.disable"}[r.Enabled], Target: r.ID})
	s.setFlash(c, map[bool]string{true: "regle-activee", false: "regle-desactivee"}[r.Enabled])
	return c.Redirect(rulesPath, fiber.StatusSeeOther)
}

func (s *Pages) ruleDeletePost(c *fiber.Ctx) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	actor := web.Caller(c).User.ID
	if err := svc.DeleteRule(ctx(c), actor, c.Params("id")); err != nil {
		return AlertErr(err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: "alert_rule.delete", Target: c.Params("id")})
	s.setFlash(c, "regle-supprimee")
	return c.Redirect(rulesPath, fiber.StatusSeeOther)
}

// MaxProposalAtmoSites bounds the sites whose ATMO index a proposal page
// shows (one InfluxDB request each).
const MaxProposalAtmoSites = 3

// proposalAtmo is the ATMO index of the day of the sites whose
// air-quality series (pm2_5, pm10, no2, o3, so2) the proposal links;
// nothing without an alert service or when InfluxDB fails (the page shows
// without it).
func (s *Pages) proposalAtmo(c *fiber.Ctx, linked []app.Series) []siteAtmo {
	if s.alert.Service == nil {
		return nil
	}
	var sites []string
	for _, sr := range linked {
		if sr.Data != nil && atmo.IsPollutant(sr.Data.Quantity) && !slices.Contains(sites, sr.Data.Site) && len(sites) < MaxProposalAtmoSites {
			sites = append(sites, sr.Data.Site)
		}
	}
	var out []siteAtmo
	for _, site := range sites {
		x, err := s.alert.Service.Atmo(ctx(c), site, s.now())
		if err != nil {
			s.log.Warn("proposal page: ATMO index not read", "site", site, "err", err)
			continue
		}
		out = append(out, siteAtmo{Site: site, Atmo: atmoOf(x)})
	}
	return out
}
