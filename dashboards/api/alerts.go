package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/dashboards/pages"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Alerts is what the API needs of the alert service (*alerting.Service,
// built by the wiring on the API's database): the risk managers' rules,
// alerts and subscriptions, and the ATMO index. The evaluator runs
// elsewhere (cmd/alerts, or the all-in-one); this process only reads and
// records people's changes, whose notifications the evaluator delivers.
type Alerts = pages.Alerts

// alertPages are the dashboard's and the alert pages' collaborators.
func (s *Server) alertPages(deps Deps) pages.AlertDeps {
	if deps.Alerts == nil {
		return pages.AlertDeps{}
	}
	return pages.AlertDeps{Service: deps.Alerts, Dashboards: app.NewDashboards(deps.Store, deps.Alerts, deps.Measurements, deps.Now)}
}

// alertRoutes are the JSON routes of the alerts (issue 11, phase 2).
func (s *Server) alertRoutes() []*web.Route {
	const v1 = "/api/v1"
	rd := func(r *web.Route) *web.Route {
		r.Tag, r.Access, r.Roles = "alerts", web.SignedIn, web.AlertReaders
		return r
	}
	wr := func(r *web.Route) *web.Route {
		r.Tag, r.Access, r.Roles = "alerts", web.SignedIn, web.AlertManagers
		return r
	}
	return []*web.Route{
		rd(&web.Route{Method: "GET", Path: v1 + "/alert-rules", Summary: "Alert rules, by name", Response: []ruleJSON{}, Handler: s.alertRules}),
		wr(&web.Route{Method: "POST", Path: v1 + "/alert-rules", Summary: "Create an alert rule (vigilance levels jaune, orange, rouge; durations as Go durations, e.g. 10m)", Body: ruleReq{}, Response: ruleJSON{}, Status: 201, Handler: s.createAlertRule}),
		wr(&web.Route{Method: "POST", Path: v1 + "/alert-rules/preview", Summary: "Try a rule on the past (default the last 7 days): how many times it would have fired, and when", Body: previewReq{}, Response: previewResp{}, Handler: s.previewAlertRule}),
		rd(&web.Route{Method: "GET", Path: v1 + "/alert-rules/:id", Summary: "An alert rule", Response: ruleJSON{}, Handler: s.alertRule}),
		wr(&web.Route{Method: "PUT", Path: v1 + "/alert-rules/:id", Summary: "Replace an alert rule (its open alerts are judged by the new condition)", Body: ruleReq{}, Response: ruleJSON{}, Handler: s.updateAlertRule}),
		wr(&web.Route{Method: "PUT", Path: v1 + "/alert-rules/:id/enabled", Summary: "Enable or disable an alert rule (a disabled rule keeps its alerts)", Body: enabledReq{}, Response: ruleJSON{}, Handler: s.enableAlertRule}),
		wr(&web.Route{Method: "DELETE", Path: v1 + "/alert-rules/:id", Summary: "Delete an alert rule; its open alerts are closed", Status: 204, Handler: s.deleteAlertRule}),

		rd(&web.Route{Method: "GET", Path: v1 + "/alerts", Summary: "Alerts, the newest first", Params: []web.Param{
			web.Q("rule_id", "string", "only this rule's"), web.Q("site", "string", "only this site's"),
			web.Q("open", "boolean", "true: only active and acknowledged alerts"), web.Q("since", "string", "RFC 3339: fired at or after"),
			web.Q("limit", "integer", "at most this many (default 100, at most 1000)")}, Response: []alerting.Alert{}, Handler: s.alerts}),
		rd(&web.Route{Method: "GET", Path: v1 + "/alerts/:id", Summary: "An alert", Response: alerting.Alert{}, Handler: s.alert}),
		rd(&web.Route{Method: "GET", Path: v1 + "/alerts/:id/history", Summary: "An alert's transitions, the firing first (who, when, comment)", Response: []alerting.Transition{}, Handler: s.alertHistory}),
		wr(&web.Route{Method: "POST", Path: v1 + "/alerts/:id/acknowledge", Summary: "Take an active (or cleared, unacknowledged) alert in hand, with a comment (409 otherwise)", Body: alertCommentReq{}, Response: alerting.Alert{}, Handler: s.acknowledgeAlert}),
		wr(&web.Route{Method: "POST", Path: v1 + "/alerts/:id/close", Summary: "Close a cleared alert (409 otherwise)", Body: alertCommentReq{}, Response: alerting.Alert{}, Handler: s.closeAlert}),

		rd(&web.Route{Method: "POST", Path: v1 + "/alert-subscriptions", Summary: "Receive by e-mail the alerts of a rule or of a site (one of the two)", Body: subscriptionReq{}, Status: 204, Handler: s.subscribeAlerts}),
		rd(&web.Route{Method: "GET", Path: v1 + "/alert-subscriptions", Summary: "My alert subscriptions: the rules (by name; rule_name empty if deleted since), then the sites", Response: []alerting.Subscription{}, Handler: s.alertSubscriptions}),
		rd(&web.Route{Method: "DELETE", Path: v1 + "/alert-subscriptions", Summary: "Stop receiving the alerts of a rule or of a site", Params: []web.Param{
			web.Q("rule_id", "string", "the rule"), web.Q("site", "string", "or the site")}, Status: 204, Handler: s.unsubscribeAlerts}),

		rd(&web.Route{Method: "GET", Path: v1 + "/live/alerts", Summary: "Alert changes as Server-Sent Events (event: alert, data: {event, at, id, rule_name, severity, status, site, device, quantity, past}), from the evaluator's retained MQTT messages; the caps of GET /api/v1/live", Produces: "text/event-stream", Handler: s.liveAlerts}),
		{Method: "GET", Path: v1 + "/sites/:id/atmo", Tag: "alerts", Summary: "The ATMO air-quality index of a site for a day (Europe/Paris; the current day is provisional, a partial index says which pollutants were missing)",
			Params: []web.Param{web.Q("day", "string", "YYYY-MM-DD (default today)")}, Response: atmo.Index{}, Handler: s.siteAtmo},
	}
}

// ruleReq is a rule as written by a client.
type ruleReq struct {
	Name string `json:"name"`
	// Enabled defaults to true.
	Enabled  *bool            `json:"enabled,omitempty"`
	Site     string           `json:"site,omitempty"`
	Device   string           `json:"device,omitempty"`
	Quantity string           `json:"quantity,omitempty"`
	Kind     alerting.Kind    `json:"kind"`
	Hold     string           `json:"hold,omitempty"`
	Window   string           `json:"window,omitempty"`
	Levels   []alerting.Level `json:"levels"`
}

// ruleJSON is a rule as the API shows it (durations as Go durations).
type ruleJSON struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Enabled   bool             `json:"enabled"`
	Site      string           `json:"site,omitempty"`
	Device    string           `json:"device,omitempty"`
	Quantity  string           `json:"quantity,omitempty"`
	Kind      alerting.Kind    `json:"kind"`
	Hold      string           `json:"hold"`
	Window    string           `json:"window,omitempty"`
	Levels    []alerting.Level `json:"levels"`
	CreatedBy string           `json:"created_by,omitempty"`
	Created   time.Time        `json:"created"`
	Updated   time.Time        `json:"updated"`
}

func ruleOut(r *alerting.Rule) ruleJSON {
	out := ruleJSON{ID: r.ID, Name: r.Name, Enabled: r.Enabled, Site: r.Site, Device: r.Device, Quantity: r.Quantity, Kind: r.Kind,
		Hold: r.Hold.String(), Levels: r.Levels, CreatedBy: r.CreatedBy, Created: r.Created, Updated: r.Updated}
	if r.Window > 0 {
		out.Window = r.Window.String()
	}
	if out.Levels == nil {
		out.Levels = []alerting.Level{}
	}
	return out
}

// parseDuration reads an optional Go duration of a field.
func parseDuration(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, civic.FieldError(field, "a duration such as 10m or 1h30m")
	}
	return d, nil
}

// rule turns a request into a rule (validated by the service).
func (r ruleReq) rule() (*alerting.Rule, error) {
	hold, err := parseDuration("hold", r.Hold)
	if err != nil {
		return nil, err
	}
	window, err := parseDuration("window", r.Window)
	if err != nil {
		return nil, err
	}
	out := &alerting.Rule{Name: r.Name, Enabled: r.Enabled == nil || *r.Enabled, Site: r.Site, Device: r.Device, Quantity: r.Quantity,
		Kind: r.Kind, Hold: hold, Window: window, Levels: r.Levels}
	return out, nil
}

// alertSvc is the service, or 503 when the wiring gave none.
func (s *Server) alertSvc() (Alerts, error) {
	if s.alertsSvc == nil {
		return nil, civic.Errorf(civic.EUNAVAILABLE, "alerts are not configured on this server")
	}
	return s.alertsSvc, nil
}

func (s *Server) alertRules(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	rs, err := a.Rules(ctx(c))
	if err != nil {
		return pages.AlertErr(err)
	}
	out := make([]ruleJSON, len(rs))
	for i, r := range rs {
		out[i] = ruleOut(r)
	}
	return c.JSON(out)
}

func (s *Server) alertRule(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	r, err := a.Rule(ctx(c), c.Params("id"))
	if err != nil {
		return pages.AlertErr(err)
	}
	return c.JSON(ruleOut(r))
}

func (s *Server) createAlertRule(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	var req ruleReq
	if err := decode(c, &req); err != nil {
		return err
	}
	r, err := req.rule()
	if err != nil {
		return err
	}
	actor := web.Caller(c).User.ID
	if err := a.CreateRule(ctx(c), actor, r); err != nil {
		return pages.AlertErr(err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: "alert_rule.create", Target: r.ID})
	return c.Status(fiber.StatusCreated).JSON(ruleOut(r))
}

func (s *Server) updateAlertRule(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	var req ruleReq
	if err := decode(c, &req); err != nil {
		return err
	}
	r, err := req.rule()
	if err != nil {
		return err
	}
	r.ID = c.Params("id")
	actor := web.Caller(c).User.ID
	if err := a.UpdateRule(ctx(c), actor, r); err != nil {
		return pages.AlertErr(err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: "alert_rule.update", Target: r.ID})
	return c.JSON(ruleOut(r))
}

type enabledReq struct {
	Enabled bool `json:"enabled"`
}

func (s *Server) enableAlertRule(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	var req enabledReq
	if err := decode(c, &req); err != nil {
		return err
	}
	r, err := a.Rule(ctx(c), c.Params("id"))
	if err != nil {
		return pages.AlertErr(err)
	}
	r.Enabled = req.Enabled
	actor := web.Caller(c).User.ID
	if err := a.UpdateRule(ctx(c), actor, r); err != nil {
		return pages.AlertErr(err)
	}
	action := "alert_rule.disable"
	if r.Enabled {
		action = "alert_rule.enable"
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: action, Target: r.ID})
	return c.JSON(ruleOut(r))
}

func (s *Server) deleteAlertRule(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	actor := web.Caller(c).User.ID
	if err := a.DeleteRule(ctx(c), actor, c.Params("id")); err != nil {
		return pages.AlertErr(err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: "alert_rule.delete", Target: c.Params("id")})
	return c.SendStatus(fiber.StatusNoContent)
}

// previewReq is a rule to try on the past.
type previewReq struct {
	Rule ruleReq `json:"rule"`
	// Days back from now (optional) defaults to 7, at most 31.
	Days int `json:"days,omitempty"`
	// Every aggregates the values (optional; a Go duration): the reader's
	// finest by default.
	Every string `json:"every,omitempty"`
}

// previewResp is what the rule would have done.
type previewResp struct {
	alerting.Preview
	// Count is how many times it would have fired.
	Count int `json:"count"`
}

func (s *Server) previewAlertRule(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	var req previewReq
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Days == 0 {
		req.Days = 7
	}
	if req.Days < 1 || req.Days > 31 {
		return civic.FieldError("days", "1 to 31")
	}
	every, err := parseDuration("every", req.Every)
	if err != nil {
		return err
	}
	if every < 0 || every > 24*time.Hour {
		return civic.FieldError("every", "0 to 24h")
	}
	r, err := req.Rule.rule()
	if err != nil {
		return err
	}
	stop := s.now().UTC()
	p, err := a.Preview(ctx(c), r, stop.Add(-time.Duration(req.Days)*24*time.Hour), stop, every)
	if err != nil {
		return pages.AlertErr(err)
	}
	return c.JSON(previewResp{Preview: *p, Count: len(p.Firings)})
}

func (s *Server) alerts(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	f := alerting.AlertFilter{RuleID: c.Query("rule_id"), Site: c.Query("site")}
	switch c.Query("open") {
	case "", "false":
	case "true":
		f.Open = true
	default:
		return civic.FieldError("open", "true or false")
	}
	if v := c.Query("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			return civic.FieldError("since", "an RFC 3339 time")
		}
	}
	if v := c.Query("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 1000 {
			return civic.FieldError("limit", "1 to 1000")
		}
	}
	as, err := a.Alerts(ctx(c), f)
	if err != nil {
		return pages.AlertErr(err)
	}
	if as == nil {
		as = []*alerting.Alert{}
	}
	return c.JSON(as)
}

func (s *Server) alert(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	al, err := a.Alert(ctx(c), c.Params("id"))
	if err != nil {
		return pages.AlertErr(err)
	}
	return c.JSON(al)
}

func (s *Server) alertHistory(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	ts, err := a.History(ctx(c), c.Params("id"))
	if err != nil {
		return pages.AlertErr(err)
	}
	if ts == nil {
		ts = []alerting.Transition{}
	}
	return c.JSON(ts)
}

type alertCommentReq struct {
	Comment string `json:"comment"`
}

func (s *Server) acknowledgeAlert(c *fiber.Ctx) error {
	return s.changeAlert(c, "alert.acknowledge", Alerts.Acknowledge)
}

func (s *Server) closeAlert(c *fiber.Ctx) error {
	return s.changeAlert(c, "alert.close", Alerts.Close)
}

// changeAlert is a person's transition of an alert, with its comment.
func (s *Server) changeAlert(c *fiber.Ctx, action string, change func(Alerts, context.Context, string, string, string) (*alerting.Alert, error)) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	var req alertCommentReq
	if err := decode(c, &req); err != nil {
		return err
	}
	actor := web.Caller(c).User.ID
	al, err := change(a, ctx(c), c.Params("id"), actor, req.Comment)
	if err != nil {
		return pages.AlertErr(err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: action, Target: al.ID})
	return c.JSON(al)
}

type subscriptionReq struct {
	RuleID string `json:"rule_id,omitempty"`
	Site   string `json:"site,omitempty"`
}

// check says the subscription names a rule or a site, not both, and that
// the rule exists.
func (r subscriptionReq) check(c *fiber.Ctx, a Alerts) error {
	if (r.RuleID == "") == (r.Site == "") {
		return civic.FieldError("rule_id", "a rule or a site, one of the two")
	}
	if r.RuleID != "" {
		if _, err := a.Rule(ctx(c), r.RuleID); err != nil {
			return pages.AlertErr(err)
		}
	}
	return nil
}

func (s *Server) subscribeAlerts(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	var req subscriptionReq
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := req.check(c, a); err != nil {
		return err
	}
	if err := a.Subscribe(ctx(c), web.Caller(c).User.ID, req.RuleID, req.Site); err != nil {
		return pages.AlertErr(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) alertSubscriptions(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	subs, err := a.Subscriptions(ctx(c), web.Caller(c).User.ID)
	if err != nil {
		return pages.AlertErr(err)
	}
	if subs == nil {
		subs = []alerting.Subscription{}
	}
	return c.JSON(subs)
}

func (s *Server) unsubscribeAlerts(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	req := subscriptionReq{RuleID: c.Query("rule_id"), Site: c.Query("site")}
	if (req.RuleID == "") == (req.Site == "") {
		return civic.FieldError("rule_id", "a rule or a site, one of the two")
	}
	if err := a.Unsubscribe(ctx(c), web.Caller(c).User.ID, req.RuleID, req.Site); err != nil {
		return pages.AlertErr(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) siteAtmo(c *fiber.Ctx) error {
	a, err := s.alertSvc()
	if err != nil {
		return err
	}
	day := s.now()
	if v := c.Query("day"); v != "" {
		if day, err = time.ParseInLocation(time.DateOnly, v, atmo.Paris()); err != nil {
			return civic.FieldError("day", "a day as YYYY-MM-DD")
		}
		day = day.Add(12 * time.Hour) // noon: the Paris day whatever the offset
	}
	x, err := a.Atmo(ctx(c), c.Params("id"), day)
	if err != nil {
		return pages.AlertErr(err)
	}
	return c.JSON(x)
}

// liveAlerts streams the alert changes the hub receives from MQTT.
func (s *Server) liveAlerts(c *fiber.Ctx) error {
	sub, err := s.hub.Subscribe(s.kit.ClientKey(c), live.Series{live.AlertsKey: true})
	if err != nil {
		return s.liveRefusal(c, err)
	}
	return s.stream(c, sub, "alert")
}
