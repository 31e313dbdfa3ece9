package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// alertReader adapts measure.Client to alerting.Measurements as the wiring
// does (cmd/internal/alertsd.Reader, out of reach of this package's tests).
type alertReader struct{ c *measure.Client }

func (r alertReader) Latest(ctx context.Context, site, device, quantity string, lookback time.Duration) ([]alerting.Latest, error) {
	ls, err := r.c.Series(ctx, measure.Filter{Site: site, Device: device, Quantity: quantity, Lookback: lookback})
	if err != nil {
		return nil, err
	}
	out := make([]alerting.Latest, 0, len(ls))
	for _, l := range ls {
		out = append(out, alerting.Latest{Site: l.Site, Device: l.Device, Quantity: l.Quantity, Unit: l.Unit, Time: l.Time})
	}
	return out, nil
}

func (r alertReader) Samples(ctx context.Context, site, device, quantity string, start, stop time.Time, every time.Duration, agg string) ([]alerting.Sample, error) {
	a, err := measure.ParseAggregate(agg)
	if err != nil {
		return nil, err
	}
	d, err := r.c.Range(ctx, measure.RangeQuery{SeriesKey: measure.SeriesKey{Site: site, Device: device, Quantity: quantity},
		Start: start, Stop: stop, Agg: a, Every: every, MaxPoints: measure.MaxPointsLimit})
	if err != nil {
		return nil, err
	}
	out := make([]alerting.Sample, 0, len(d.Points))
	for _, p := range d.Points {
		out = append(out, alerting.Sample{Time: p.Time, Value: p.Value})
	}
	return out, nil
}

func (r alertReader) Atmo(ctx context.Context, site string, day, now time.Time) (*atmo.Index, error) {
	return r.c.Atmo(ctx, site, day, now)
}

// newAlertService is an alert service on the env's store, reading meas
// when it is InfluxDB (every env has one: newEnv).
func newAlertService(t testing.TB, b sqltest.Backend, meas api.Measurements) *alerting.Service {
	t.Helper()
	deps := alerting.Deps{Store: b.Store}
	if m, ok := meas.(*measure.Client); ok {
		deps.Measurements = alertReader{m}
	}
	svc, err := alerting.New(alerting.Config{}, deps)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// alertEnv is an API and its alert service; meas may be nil.
func alertEnv(t *testing.T, b sqltest.Backend, meas *measure.Client) (*env, *alerting.Service) {
	t.Helper()
	var am api.Measurements
	if meas != nil {
		am = meas
	}
	e := newEnv(t, b, am, api.Config{})
	return e, e.alerts
}

func riverRuleReq(name string) map[string]any {
	return map[string]any{"name": name, "site": "var-estuaire", "quantity": "water_level", "kind": "above", "hold": "0s",
		"levels": []map[string]any{{"severity": "orange", "threshold": 2.5, "clear": 2.3}, {"severity": "rouge", "threshold": 3.2}}}
}

type ruleOut struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Enabled bool             `json:"enabled"`
	Kind    string           `json:"kind"`
	Hold    string           `json:"hold"`
	Levels  []alerting.Level `json:"levels"`
}

// TestAlertRulesAPI: rules CRUD and disable through the composed server,
// who may do what, and hostile rules refused with the field named.
func TestAlertRulesAPI(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, _ := alertEnv(t, b, nil)
			_, rm := e.user(civic.RoleRiskManager)
			_, agent := e.user(civic.RoleAgent)
			_, citizen := e.user(civic.RoleCitizen)
			_, expert := e.user(civic.RoleExpert)

			e.problem("GET", "/api/v1/alert-rules", "", nil, 401)
			e.problem("GET", "/api/v1/alert-rules", citizen, nil, 403)
			e.problem("POST", "/api/v1/alert-rules", agent, riverRuleReq("Crue du Var"), 403)
			e.problem("POST", "/api/v1/alert-rules", expert, riverRuleReq("Crue du Var"), 403)

			// A hostile name is kept as text, never interpreted.
			name := `<script>alert(1)</script>'; DROP TABLE alert_rules;--`
			var r ruleOut
			e.call("POST", "/api/v1/alert-rules", rm, riverRuleReq(name), 201, &r)
			if r.ID == "" || r.Name != name || !r.Enabled || r.Hold != "0s" || len(r.Levels) != 2 {
				t.Fatalf("created %+v", r)
			}
			var list []ruleOut
			e.call("GET", "/api/v1/alert-rules", agent, nil, 200, &list)
			if len(list) != 1 || list[0].Name != name {
				t.Fatalf("list %+v", list)
			}

			upd := riverRuleReq("Crue du Var")
			upd["hold"] = "10m"
			e.call("PUT", "/api/v1/alert-rules/"+r.ID, rm, upd, 200, &r)
			if r.Name != "Crue du Var" || r.Hold != "10m0s" {
				t.Fatalf("updated %+v", r)
			}
			e.problem("PUT", "/api/v1/alert-rules/"+r.ID+"/enabled", agent, map[string]any{"enabled": false}, 403)
			e.call("PUT", "/api/v1/alert-rules/"+r.ID+"/enabled", e.admin, map[string]any{"enabled": false}, 200, &r)
			e.call("GET", "/api/v1/alert-rules/"+r.ID, agent, nil, 200, &r)
			if r.Enabled || r.Hold != "10m0s" {
				t.Fatalf("disabled %+v", r)
			}
			e.problem("PUT", "/api/v1/alert-rules/nope", rm, upd, 404)

			for _, c := range []struct {
				name  string
				body  any
				field string
			}{
				{"oversized threshold", func() map[string]any {
					b := riverRuleReq("x")
					b["levels"] = []map[string]any{{"severity": "orange", "threshold": 1e300}}
					return b
				}(), "levels[0].threshold"},
				{"oversized clear", func() map[string]any {
					b := riverRuleReq("x")
					b["levels"] = []map[string]any{{"severity": "orange", "threshold": 1, "clear": -1e12}}
					return b
				}(), "levels[0].threshold"},
				{"unknown kind", func() map[string]any { b := riverRuleReq("x"); b["kind"] = "explode"; return b }(), "kind"},
				{"bad hold", func() map[string]any { b := riverRuleReq("x"); b["hold"] = "forever"; return b }(), "hold"},
				{"hold too long", func() map[string]any { b := riverRuleReq("x"); b["hold"] = "9000h"; return b }(), "hold"},
				{"long name", riverRuleReq(strings.Repeat("é", alerting.MaxNameLen+1)), "name"},
				{"control in name", riverRuleReq("crue\x1b[2J"), "name"},
				{"blank name", riverRuleReq("   "), "name"},
				{"site injection", func() map[string]any { b := riverRuleReq("x"); b["site"] = "var' OR '1'='1"; return b }(), "site"},
				{"quantity injection", func() map[string]any { b := riverRuleReq("x"); b["quantity"] = "water_level/#"; return b }(), "quantity"},
				{"no level", func() map[string]any { b := riverRuleReq("x"); b["levels"] = []any{}; return b }(), "levels"},
				{"unknown severity", func() map[string]any {
					b := riverRuleReq("x")
					b["levels"] = []map[string]any{{"severity": "violet", "threshold": 1}}
					return b
				}(), "levels[0].severity"},
				{"twice orange", func() map[string]any {
					b := riverRuleReq("x")
					b["levels"] = []map[string]any{{"severity": "orange", "threshold": 1}, {"severity": "orange", "threshold": 2}}
					return b
				}(), "levels[1].severity"},
			} {
				p := e.problem("POST", "/api/v1/alert-rules", rm, c.body, 400)
				if p["field"] != c.field {
					t.Errorf("%s: field %v, want %s (%v)", c.name, p["field"], c.field, p)
				}
			}
			// Numbers beyond float64, unknown fields, trailing data: the decoder refuses them.
			e.problem("POST", "/api/v1/alert-rules", rm, `{"name":"x","kind":"above","quantity":"water_level","levels":[{"severity":"jaune","threshold":1e400}]}`, 400)
			e.problem("POST", "/api/v1/alert-rules", rm, `{"name":"x","kind":"above","quantity":"water_level","levels":[{"severity":"jaune","threshold":1}],"admin":true}`, 400)
			e.problem("POST", "/api/v1/alert-rules", rm, `{"name":"x"} {}`, 400)

			e.problem("DELETE", "/api/v1/alert-rules/"+r.ID, agent, nil, 403)
			e.call("DELETE", "/api/v1/alert-rules/"+r.ID, rm, nil, 204, nil)
			e.problem("GET", "/api/v1/alert-rules/"+r.ID, rm, nil, 404)
			e.problem("DELETE", "/api/v1/alert-rules/"+r.ID, rm, nil, 404)
		})
	}
}

func river(minute int, v float64, t0 time.Time) smartdeal.Reading {
	return smartdeal.Reading{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Unit: "m", Kind: smartdeal.KindNumber,
		Number: v, Time: t0.Add(time.Duration(minute) * time.Minute)}
}

// TestAlertsAPI: an alert fired by the service is listed, read with its
// history, acknowledged with a comment, refused what its lifecycle
// refuses, and closed once cleared; subscriptions.
func TestAlertsAPI(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, svc := alertEnv(t, b, nil)
			_, rm := e.user(civic.RoleRiskManager)
			_, agent := e.user(civic.RoleAgent)
			_, citizen := e.user(civic.RoleCitizen)
			var r ruleOut
			e.call("POST", "/api/v1/alert-rules", rm, riverRuleReq("Crue du Var"), 201, &r)
			ctx := context.Background()
			t0 := time.Now().UTC().Add(-time.Minute)
			if err := svc.HandleReadings(ctx, []smartdeal.Reading{river(0, 2.7, t0)}); err != nil {
				t.Fatal(err)
			}
			var open []alerting.Alert
			e.problem("GET", "/api/v1/alerts?open=true", citizen, nil, 403)
			e.call("GET", "/api/v1/alerts?open=true&rule_id="+r.ID, agent, nil, 200, &open)
			if len(open) != 1 || open[0].Severity != alerting.Orange || open[0].Status != alerting.Active || open[0].Value != 2.7 {
				t.Fatalf("open alerts %+v", open)
			}
			id := open[0].ID
			for _, q := range []string{"open=maybe", "since=yesterday", "limit=0", "limit=100000", "limit=1;DROP"} {
				e.problem("GET", "/api/v1/alerts?"+q, agent, nil, 400)
			}
			var none []alerting.Alert
			e.call("GET", "/api/v1/alerts?site="+url.QueryEscape("x' OR 1=1 --"), agent, nil, 200, &none)
			if len(none) != 0 {
				t.Fatalf("injected site filter matched %+v", none)
			}

			e.problem("POST", "/api/v1/alerts/"+id+"/acknowledge", agent, map[string]any{"comment": "vu"}, 403)
			e.problem("POST", "/api/v1/alerts/"+id+"/acknowledge", rm, map[string]any{"comment": strings.Repeat("x", alerting.MaxCommentLen+1)}, 400)
			var a alerting.Alert
			e.call("POST", "/api/v1/alerts/"+id+"/acknowledge", rm, map[string]any{"comment": "Équipe envoyée <b>sur place</b>"}, 200, &a)
			if a.Status != alerting.Acknowledged || a.AckComment != "Équipe envoyée <b>sur place</b>" || a.AckBy == "" {
				t.Fatalf("acknowledged %+v", a)
			}
			e.problem("POST", "/api/v1/alerts/"+id+"/acknowledge", rm, map[string]any{"comment": "encore"}, 409)
			e.problem("POST", "/api/v1/alerts/"+id+"/close", rm, map[string]any{}, 409) // not cleared yet
			e.problem("POST", "/api/v1/alerts/nope/acknowledge", rm, map[string]any{}, 404)

			if err := svc.HandleReadings(ctx, []smartdeal.Reading{river(1, 2.0, t0)}); err != nil {
				t.Fatal(err)
			}
			e.call("GET", "/api/v1/alerts/"+id, agent, nil, 200, &a)
			if a.Status != alerting.Cleared || a.ClearedAt == nil {
				t.Fatalf("cleared %+v", a)
			}
			e.call("POST", "/api/v1/alerts/"+id+"/close", e.admin, map[string]any{"comment": "fin"}, 200, &a)
			if a.Status != alerting.Closed {
				t.Fatalf("closed %+v", a)
			}
			var hist []alerting.Transition
			e.call("GET", "/api/v1/alerts/"+id+"/history", agent, nil, 200, &hist)
			if len(hist) != 4 || hist[0].To != alerting.Active || hist[1].To != alerting.Acknowledged || hist[1].Comment == "" ||
				hist[2].To != alerting.Cleared || hist[3].To != alerting.Closed {
				t.Fatalf("history %+v", hist)
			}
			e.problem("GET", "/api/v1/alerts/nope/history", agent, nil, 404)

			// Subscriptions: a rule or a site, one of the two; the rule must exist.
			e.call("POST", "/api/v1/alert-subscriptions", agent, map[string]any{"rule_id": r.ID}, 204, nil)
			e.call("POST", "/api/v1/alert-subscriptions", rm, map[string]any{"site": "var-estuaire"}, 204, nil)
			e.problem("POST", "/api/v1/alert-subscriptions", rm, map[string]any{"rule_id": r.ID, "site": "var-estuaire"}, 400)
			e.problem("POST", "/api/v1/alert-subscriptions", rm, map[string]any{}, 400)
			e.problem("POST", "/api/v1/alert-subscriptions", rm, map[string]any{"rule_id": "nope"}, 404)
			e.problem("POST", "/api/v1/alert-subscriptions", citizen, map[string]any{"rule_id": r.ID}, 403)
			var subs []alerting.Subscription
			e.call("GET", "/api/v1/alert-subscriptions", agent, nil, 200, &subs)
			if len(subs) != 1 || subs[0].RuleID != r.ID || subs[0].RuleName != "Crue du Var" || subs[0].Site != "" {
				t.Fatalf("agent's subscriptions %+v", subs)
			}
			e.problem("GET", "/api/v1/alert-subscriptions", citizen, nil, 403)
			e.problem("GET", "/api/v1/alert-subscriptions", "", nil, 401)
			recips, err := b.Store.AlertRecipients(ctx, r.ID, "var-estuaire")
			if err != nil || len(recips) != 2 {
				t.Fatalf("recipients %+v %v", recips, err)
			}
			e.call("DELETE", "/api/v1/alert-subscriptions?rule_id="+r.ID, agent, nil, 204, nil)
			e.problem("DELETE", "/api/v1/alert-subscriptions", agent, nil, 400)
			if recips, _ = b.Store.AlertRecipients(ctx, r.ID, "var-estuaire"); len(recips) != 1 {
				t.Fatalf("after unsubscribe %+v", recips)
			}
		})
	}
}

// TestAlertPreviewAndAtmoAPI: a rule tried on the last 7 days of a real
// InfluxDB says how many times it would have fired and when; the ATMO
// index of a site and day.
func TestAlertPreviewAndAtmoAPI(t *testing.T) {
	meas, in, db := freshInflux(t)
	e, _ := alertEnv(t, sqltest.SQLite(t), meas)
	_, rm := e.user(civic.RoleRiskManager)
	_, agent := e.user(civic.RoleAgent)
	now := time.Now().UTC()
	t0 := now.Add(-3 * 24 * time.Hour).Truncate(time.Hour)
	var lines []string
	// Two floods three days ago: 2.6 m at minutes 10–19 and 3.4 m at 40–44; 2.0 m otherwise.
	for i := range 60 {
		v := 2.0
		switch {
		case i >= 10 && i < 20:
			v = 2.6
		case i >= 40 && i < 45:
			v = 3.4
		}
		lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=%g %d", v, t0.Add(time.Duration(i)*time.Minute).Unix()))
	}
	// NO2 today at the Nice station: 100 µg/m³ (moyen … dégradé: 91–120).
	lines = append(lines, fmt.Sprintf("telemetry,site=nice-arson,device=no2,quantity=no2,unit=ug/m3 value=100 %d", todayAgo(now, 10*time.Minute).Unix()))
	writeLP(t, in.URL, db+"/autogen", lines)

	var p struct {
		Count   int                      `json:"count"`
		Series  int                      `json:"series"`
		Firings []alerting.PreviewFiring `json:"firings"`
	}
	e.problem("POST", "/api/v1/alert-rules/preview", agent, map[string]any{"rule": riverRuleReq("essai")}, 403)
	e.call("POST", "/api/v1/alert-rules/preview", rm, map[string]any{"rule": riverRuleReq("essai")}, 200, &p)
	// orange fires twice (10 and 40), rouge once (40).
	if p.Count != 3 || p.Series != 1 || len(p.Firings) != 3 {
		t.Fatalf("preview %+v", p)
	}
	for _, f := range p.Firings {
		if f.At.Before(t0) || f.At.After(t0.Add(time.Hour)) || f.Until == nil {
			t.Fatalf("firing %+v", f)
		}
	}
	e.problem("POST", "/api/v1/alert-rules/preview", rm, map[string]any{"rule": riverRuleReq("essai"), "days": 400}, 400)
	e.problem("POST", "/api/v1/alert-rules/preview", rm, map[string]any{"rule": riverRuleReq("essai"), "every": "-5m"}, 400)
	e.problem("POST", "/api/v1/alert-rules/preview", rm, map[string]any{"rule": map[string]any{"name": "x", "kind": "offline", "levels": []map[string]any{{"severity": "rouge"}}}}, 400)

	var x atmo.Index
	e.call("GET", "/api/v1/sites/nice-arson/atmo", "", nil, 200, &x)
	if x.Class != atmo.Degrade || !x.Partial || !x.Provisional || len(x.Dominant) != 1 || x.Dominant[0] != atmo.NO2 {
		t.Fatalf("atmo %+v", x)
	}
	day := now.In(atmo.Paris()).AddDate(0, 0, -5).Format(time.DateOnly)
	e.call("GET", "/api/v1/sites/nice-arson/atmo?day="+day, "", nil, 200, &x)
	if x.Day != day || x.Class != atmo.None || x.Provisional {
		t.Fatalf("atmo of a day without data %+v", x)
	}
	e.problem("GET", "/api/v1/sites/nice-arson/atmo?day=10/07/2020", "", nil, 400)
	e.problem("GET", "/api/v1/sites/nice-arson/atmo?day=2020-07-10", "", nil, 400) // beyond influx.max_range
	e.problem("GET", "/api/v1/sites/"+url.PathEscape("nice' OR 1=1")+"/atmo", "", nil, 400)
}

// TestAlertsAPIUnconfigured: without an alert service the routes answer 503.
func TestAlertsAPIUnconfigured(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{}, func(d *api.Deps) { d.Alerts = nil })
	e.problem("GET", "/api/v1/alert-rules", e.admin, nil, 503)
	e.problem("GET", "/api/v1/sites/x/atmo", "", nil, 503)
}

// firedAlert creates a rule on var-estuaire's water_level and fires it;
// it returns the alert's and the rule's ids.
func (e *env) firedAlert(t *testing.T) (alertID, ruleID string) {
	t.Helper()
	ctx := context.Background()
	r := &alerting.Rule{Name: "Crue du Var", Enabled: true, Site: "var-estuaire", Quantity: "water_level", Kind: alerting.Above,
		Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 2.5}}}
	if err := e.alerts.CreateRule(ctx, "test", r); err != nil {
		t.Fatal(err)
	}
	if err := e.alerts.HandleReadings(ctx, []smartdeal.Reading{river(0, 2.8, time.Now().UTC().Add(-time.Minute))}); err != nil {
		t.Fatal(err)
	}
	as, err := e.alerts.Alerts(ctx, alerting.AlertFilter{RuleID: r.ID})
	if err != nil || len(as) != 1 {
		t.Fatalf("alerts %+v %v", as, err)
	}
	return as[0].ID, r.ID
}

// TestProposalPageAtmo: a proposal page linked to an air-quality series
// shows the ATMO index of its site for the day (provisional, partial,
// which pollutant sets it); one linked to a water level shows none.
func TestProposalPageAtmo(t *testing.T) {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{})
	e.field()
	e.call("POST", "/api/v1/sites", e.admin, map[string]any{"id": "nice-arson", "name": "Nice Arson", "location": map[string]float64{"lat": 43.70, "lon": 7.28}}, 201, nil)
	e.call("POST", "/api/v1/devices", e.admin, map[string]any{"id": "no2-1", "site_id": "nice-arson", "kind": "sensor", "model": "AtmoSud",
		"quantities": []map[string]string{{"quantity": "no2", "unit": "ug/m3"}}}, 201, nil)
	writeLP(t, in.URL, db+"/autogen", []string{fmt.Sprintf("telemetry,site=nice-arson,device=no2-1,quantity=no2,unit=ug/m3 value=100 %d", todayAgo(time.Now(), 10*time.Minute).Unix())})
	_, citizen := e.user(civic.RoleCitizen)
	air, river := e.idea(citizen, 10, true), e.idea(citizen, 10, true)
	e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": air.ID, "site_id": "nice-arson", "device_id": "no2-1", "quantity": "no2"}, 201, nil)
	e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": river.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, 201, nil)
	html := e.page("/idees/"+air.ID, 200)
	mustContain(t, "air page", html, `id="atmo-idee"`, "Indice ATMO du jour, site nice-arson", "dégradé", "fixé par NO2", "(provisoire)", "partiel : sans PM2,5, PM10, O3, SO2")
	if html := e.page("/idees/"+river.ID, 200); strings.Contains(html, "atmo-idee") {
		t.Error("a water-level page shows an ATMO index")
	}
}

// todayAgo is d before now, but not before the start of now's day in Paris:
// a reading that today's ATMO index must count, even just after midnight.
func todayAgo(now time.Time, d time.Duration) time.Time {
	y, m, day := now.In(atmo.Paris()).Date()
	return maxTime(now.Add(-d), time.Date(y, m, day, 0, 0, 0, 0, atmo.Paris()))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
