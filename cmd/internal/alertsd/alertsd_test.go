package alertsd_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/alertsd"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/senml"
)

const (
	site   = "breil-sur-roya"
	device = "breil-sur-roya-river-1"
	secret = "s3cret-du-webhook"
)

type env struct {
	broker, influx, bucket string
	mail                   *testenv.Mailpit
}

func newEnv(t *testing.T) env {
	t.Helper()
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	return env{broker: broker.URL(), influx: in.URL, bucket: in.NewDatabase(t) + "/autogen", mail: testenv.SharedMailpit(t)}
}

func (e env) config(dsn, clientID string, webhook string) alertsd.Config {
	c := alertsd.DefaultConfig()
	c.DB = dsn
	c.MQTT.URL, c.MQTT.ClientID = e.broker, clientID
	c.Influx.URL, c.Influx.Bucket = e.influx, e.bucket
	c.Alerts.Webhooks, c.Alerts.WebhookSecret = []string{webhook}, secret
	c.Alerts.RetryBase, c.Alerts.RetryMax, c.Alerts.Poll, c.Alerts.RulesRefresh = 100*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond, 200*time.Millisecond
	c.Alerts.MailInterval = time.Hour
	c.Alerts.PublicURL = "http://tableau.test"
	c.Mail.Host, c.Mail.Port, c.Mail.TLS, c.Mail.From = e.mail.SMTPHost, e.mail.SMTPPort, "none", "alertes@smartdeal.test"
	return c
}

func start(t *testing.T, cfg alertsd.Config) *alertsd.App {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app, err := alertsd.New(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	testenv.Eventually(t, 10*time.Second, func() bool { return app.BrokerReady(ctx) == nil }, "evaluator %s not subscribed", cfg.MQTT.ClientID)
	return app
}

// webhookReceiver records the POSTs it accepts, checking each signature.
type webhookReceiver struct {
	mu        sync.Mutex
	byID      map[string]int
	events    []string
	badSigned int
}

func (w *webhookReceiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !alerting.VerifySignature(secret, body, r.Header.Get(alerting.HeaderSignature)) {
		w.badSigned++
		http.Error(rw, "bad signature", http.StatusUnauthorized)
		return
	}
	var m alerting.Message
	_ = json.Unmarshal(body, &m)
	w.byID[r.Header.Get(alerting.HeaderDelivery)]++
	w.events = append(w.events, m.Event)
	rw.WriteHeader(http.StatusNoContent)
}

// TestEvaluatorEndToEnd runs two evaluator replicas (two service instances
// with their own MQTT clients in the same shared group and their own store
// pools) against real Mosquitto, InfluxDB, mailpit and SQLite or
// PostgreSQL. A river held above 2.5 m fires one orange alert, clears below
// 2.3 m (not at 2.4: hysteresis), fires again; each change is published
// retained under smartdeal/v1/alerts/…; the webhook receiver, down at
// first, gets every change once with a valid signature once it is up; the
// subscribed risk manager gets one French mail with the alert's link (the
// second firing waits for the storm interval).
func TestEvaluatorEndToEnd(t *testing.T) {
	for _, backend := range []func(testing.TB) sqltest.Backend{sqltest.SQLite, sqltest.Postgres} {
		b := backend(t)
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			// The webhook receiver's port is reserved but nobody listens yet.
			hookAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t)))
			hookURL := "http://" + hookAddr + "/hook"
			a := start(t, e.config(b.DSN, "alerts-a-"+b.Name, hookURL))
			bb := start(t, e.config(b.DSN, "alerts-b-"+b.Name, hookURL))

			rm := &civic.User{ID: civic.NewID(), Email: "gestionnaire-" + b.Name + "-" + civic.NewID()[:6] + "@risques.test", Name: "Gestionnaire",
				Role: civic.RoleRiskManager, PasswordHash: "x", Created: time.Now()}
			if err := a.Store().CreateUser(ctx, rm); err != nil {
				t.Fatal(err)
			}
			clear := 2.3
			rule := &alerting.Rule{Name: "Crue de la Roya", Enabled: true, Site: site, Quantity: "water_level", Kind: alerting.Above,
				Hold: 4 * time.Second, Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 2.5, Clear: &clear}}}
			if err := a.Service().CreateRule(ctx, rm.ID, rule); err != nil {
				t.Fatal(err)
			}
			if err := a.Service().Subscribe(ctx, rm.ID, "", site); err != nil {
				t.Fatal(err)
			}
			if err := bb.Service().LoadRules(ctx); err != nil {
				t.Fatal(err)
			}
			rec := mqtttest.Subscribe(t, e.broker, "alerts-follower-"+b.Name, smartdeal.DefaultTopicPrefix+"/alerts/#")
			pub := mqtttest.Client(t, e.broker, "gateway-"+b.Name)

			base := time.Now().Add(-40 * time.Second).Truncate(time.Second)
			steps := []struct {
				sec int
				v   float64
			}{{0, 2.6}, {2, 2.7}, {5, 2.8}, {6, 2.4}, {8, 2.2}, {10, 2.6}, {12, 2.6}, {15, 2.7}}
			evaluated := func() int64 {
				return a.Service().Metrics().Readings.Load() + bb.Service().Metrics().Readings.Load()
			}
			for i, s := range steps {
				payload, err := senml.EncodeReadings(site, device, []smartdeal.Reading{{Site: site, Device: device, Quantity: "water_level", Unit: "m",
					Time: base.Add(time.Duration(s.sec) * time.Second), Kind: smartdeal.KindNumber, Number: s.v}})
				if err != nil {
					t.Fatal(err)
				}
				mqtttest.Publish(t, pub, smartdeal.Topics{}.Telemetry(site, device), payload)
				// One reading at a time, as a gateway sends them seconds
				// apart: the replicas take turns (shared subscription).
				testenv.Eventually(t, 10*time.Second, func() bool { return evaluated() == int64(i+1) }, "reading %d not evaluated", i)
			}
			if a.Service().Metrics().Readings.Load() == 0 || bb.Service().Metrics().Readings.Load() == 0 {
				t.Logf("one replica got every reading (a %d, b %d): the broker's split", a.Service().Metrics().Readings.Load(), bb.Service().Metrics().Readings.Load())
			}
			all, err := a.Service().Alerts(ctx, alerting.AlertFilter{RuleID: rule.ID})
			if err != nil || len(all) != 2 {
				t.Fatalf("alerts %+v %v: want two (fired, cleared, fired again)", all, err)
			}
			second, first := all[0], all[1]
			if first.Status != alerting.Cleared || !first.FiredAt.Equal(base.Add(5*time.Second)) || !first.From.Equal(base) ||
				first.ConditionEnd == nil || !first.ConditionEnd.Equal(base.Add(8*time.Second)) || first.Past {
				t.Errorf("first alert %+v", first)
			}
			if second.Status != alerting.Active || !second.FiredAt.Equal(base.Add(15*time.Second)) || !second.From.Equal(base.Add(10*time.Second)) {
				t.Errorf("second alert %+v", second)
			}

			// Retained MQTT: fired, cleared, fired on the alert's topic; a
			// newcomer gets the current state.
			topic := smartdeal.DefaultTopicPrefix + "/alerts/" + site + "/" + device + "/water_level/" + rule.ID + "/orange"
			testenv.Eventually(t, 10*time.Second, func() bool { return len(events(rec, topic)) == 3 }, "MQTT events %v", events(rec, topic))
			if got := strings.Join(events(rec, topic), ","); got != "fired,cleared,fired" {
				t.Errorf("MQTT events %s", got)
			}
			late := mqtttest.Subscribe(t, e.broker, "alerts-late-"+b.Name, topic)
			// (mqtttest subscribes on connect and again: the retained message
			// may come twice.)
			testenv.Eventually(t, 5*time.Second, func() bool { return late.Len() >= 1 }, "no retained alert state")
			var m alerting.Message
			if err := json.Unmarshal(late.Messages()[0].Payload, &m); err != nil || !late.Messages()[0].Retained || m.Alert.ID != second.ID ||
				m.Link != "http://tableau.test/alertes/"+second.ID {
				t.Errorf("retained %+v %v", m, err)
			}

			// The webhook receiver comes up after failed attempts: every
			// change is delivered once, signed.
			testenv.Eventually(t, 10*time.Second, func() bool {
				ds, _ := a.Store().Deliveries(ctx, alerting.ChannelWebhook, 10)
				return len(ds) == 3 && ds[len(ds)-1].Attempts >= 2 && ds[len(ds)-1].LastError != ""
			}, "webhook attempts not failing while the receiver is down")
			hook := &webhookReceiver{byID: map[string]int{}}
			ln, err := net.Listen("tcp", hookAddr)
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: hook}
			go srv.Serve(ln)
			defer srv.Close()
			testenv.Eventually(t, 10*time.Second, func() bool {
				ds, _ := a.Store().Deliveries(ctx, alerting.ChannelWebhook, 10)
				n := 0
				for _, d := range ds {
					if d.Delivered != nil {
						n++
					}
				}
				return n == 3
			}, "webhooks not delivered")
			hook.mu.Lock()
			if len(hook.byID) != 3 || hook.badSigned != 0 || strings.Join(hook.events, ",") != "fired,cleared,fired" {
				t.Errorf("webhooks %v events %v, %d badly signed", hook.byID, hook.events, hook.badSigned)
			}
			for id, n := range hook.byID {
				if n != 1 {
					t.Errorf("delivery %s received %d times", id, n)
				}
			}
			hook.mu.Unlock()

			// One French mail with the link; the second firing waits for
			// the storm interval.
			got := e.mail.WaitMail(t, rm.Email, "Alerte vigilance orange", 15*time.Second)
			for _, want := range []string{"La règle « Crue de la Roya » a déclenché une alerte.", "2,8 m, au-dessus du seuil de 2,5 m",
				"http://tableau.test/alertes/" + first.ID, "Vigilance orange"} {
				if !strings.Contains(got.Text, want) {
					t.Errorf("mail lacks %q:\n%s", want, got.Text)
				}
			}
			time.Sleep(500 * time.Millisecond)
			if n := len(e.mail.Messages(t, rm.Email)); n != 1 {
				t.Errorf("%d mails, want 1 (storm grouping)", n)
			}
			mails, _ := a.Store().Deliveries(ctx, alerting.ChannelMail, 10)
			if len(mails) != 2 || mails[0].Delivered != nil || mails[1].Delivered == nil {
				t.Errorf("mail deliveries %+v", mails)
			}
		})
	}
}

func events(rec *mqtttest.Recorder, topic string) []string {
	var out []string
	for _, m := range rec.Messages() {
		if m.Topic != topic {
			continue
		}
		var msg alerting.Message
		if json.Unmarshal(m.Payload, &msg) == nil {
			out = append(out, msg.Event)
		}
	}
	return out
}

func writeLines(t *testing.T, influxURL, bucket string, lines ...string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, influxURL+"/api/v2/write?bucket="+bucket+"&precision=ms", strings.NewReader(strings.Join(lines, "\n")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("influx write: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("influx write: %s %s", resp.Status, body)
	}
}

func line(site, device, quantity string, at time.Time, v float64) string {
	return "telemetry,site=" + site + ",device=" + device + ",quantity=" + quantity + ",unit=x value=" + strconv.FormatFloat(v, 'f', -1, 64) +
		" " + strconv.FormatInt(at.UnixMilli(), 10)
}

// TestEvaluatorKinds runs one evaluator against real Mosquitto, InfluxDB
// and SQLite with a rule of each other kind: a retained offline status held
// past its hold fires (by the sweep) and "online" clears it; a series silent
// in InfluxDB for longer than its hold fires, its next reading clears it; a
// river rising 0.3 m within a minute fires a rate rule; the day's ATMO index
// of a site (O3 at 120 µg/m³: dégradé) fires an ATMO rule; a run the
// evaluator saw whole but that InfluxDB shows broken by a dip (a reading
// another replica took) does not fire until it lasts the hold again; a rule
// whose state is new rebuilds its window from InfluxDB and fires on the
// first reading it gets.
func TestEvaluatorKinds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := sqltest.SQLite(t)
	cfg := e.config(b.DSN, "alerts-kinds", "http://127.0.0.1:1/unused")
	cfg.Alerts.Webhooks, cfg.Alerts.Sweep = nil, 200*time.Millisecond
	app := start(t, cfg)
	svc := app.Service()
	ptr := func(v float64) *float64 { return &v }
	rules := map[string]*alerting.Rule{
		"offline": {Name: "hors ligne", Enabled: true, Site: "off-site", Kind: alerting.Offline, Hold: time.Second, Levels: []alerting.Level{{Severity: alerting.Jaune}}},
		"nodata":  {Name: "muet", Enabled: true, Site: "quiet-site", Quantity: "pm10", Kind: alerting.NoData, Hold: 5 * time.Minute, Levels: []alerting.Level{{Severity: alerting.Jaune}}},
		"rate": {Name: "montée", Enabled: true, Site: "rate-site", Quantity: "water_level", Kind: alerting.Rate, Window: time.Minute,
			Levels: []alerting.Level{{Severity: alerting.Rouge, Threshold: 0.25, Clear: ptr(0.1)}}},
		"atmo":    {Name: "air", Enabled: true, Site: "air-site", Kind: alerting.Atmo, Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 3}}},
		"verify":  {Name: "vérifiée", Enabled: true, Site: "verify-site", Quantity: "water_level", Kind: alerting.Above, Hold: 10 * time.Second, Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 2.5}}},
		"late":    {Name: "relevés en retard", Enabled: true, Site: "late-site", Quantity: "water_level", Kind: alerting.Above, Levels: []alerting.Level{{Severity: alerting.Rouge, Threshold: 3}}},
		"rebuild": {Name: "reconstruite", Enabled: true, Site: "rebuild-site", Quantity: "water_level", Kind: alerting.Above, Hold: 8 * time.Second, Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 2.5}}},
	}
	for _, r := range rules {
		if err := svc.CreateRule(ctx, "test", r); err != nil {
			t.Fatal(err)
		}
	}
	alerts := func(name string) []*alerting.Alert {
		as, err := svc.Alerts(ctx, alerting.AlertFilter{RuleID: rules[name].ID})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	pub := mqtttest.Client(t, e.broker, "kinds-gateway")
	send := func(site string, at time.Time, v float64) {
		t.Helper()
		dev := site + "-dev"
		payload, err := senml.EncodeReadings(site, dev, []smartdeal.Reading{{Site: site, Device: dev, Quantity: "water_level", Unit: "m", Time: at, Kind: smartdeal.KindNumber, Number: v}})
		if err != nil {
			t.Fatal(err)
		}
		before := svc.Metrics().Readings.Load()
		mqtttest.Publish(t, pub, smartdeal.Topics{}.Telemetry(site, dev), payload)
		testenv.Eventually(t, 10*time.Second, func() bool { return svc.Metrics().Readings.Load() > before }, "reading not evaluated")
	}
	now := time.Now().Truncate(time.Second)

	// Data in InfluxDB first: the silent series, the air, the dip, the run.
	base := now.Add(-40 * time.Second)
	var ls []string
	ls = append(ls, line("quiet-site", "quiet-dev", "pm10", now.Add(-10*time.Minute), 12), line("air-site", "air-dev", "o3", now.Add(-30*time.Second), 120),
		line("verify-site", "verify-site-dev", "water_level", base, 2.6), line("verify-site", "verify-site-dev", "water_level", base.Add(5*time.Second), 2.0),
		line("verify-site", "verify-site-dev", "water_level", base.Add(6*time.Second), 2.6))
	for i := range 10 {
		ls = append(ls, line("rebuild-site", "rebuild-site-dev", "water_level", base.Add(time.Duration(i)*time.Second), 2.6))
	}
	writeLines(t, e.influx, e.bucket, ls...)

	t.Run("offline", func(t *testing.T) {
		st := func(state string) []byte {
			return []byte(`{"state":"` + state + `","time":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}`)
		}
		tok := pub.Publish(smartdeal.Topics{}.Device("off-site", "off-gw", smartdeal.ChannelStatus), 1, true, st("offline"))
		tok.Wait()
		testenv.Eventually(t, 10*time.Second, func() bool { return len(alerts("offline")) == 1 }, "offline held 1s did not fire")
		a := alerts("offline")[0]
		if a.Series.Device != "off-gw" || a.Series.Quantity != alerting.StatusQuantity || a.Kind != alerting.Offline {
			t.Errorf("offline alert %+v", a)
		}
		pub.Publish(smartdeal.Topics{}.Device("off-site", "off-gw", smartdeal.ChannelStatus), 1, true, st("online")).Wait()
		testenv.Eventually(t, 10*time.Second, func() bool { return alerts("offline")[0].Status == alerting.Cleared }, "online did not clear")
	})
	t.Run("no data", func(t *testing.T) {
		testenv.Eventually(t, 10*time.Second, func() bool { return len(alerts("nodata")) == 1 }, "ten silent minutes did not fire")
		a := alerts("nodata")[0]
		if !a.From.Equal(now.Add(-10*time.Minute)) || a.Series.Device != "quiet-dev" {
			t.Errorf("no-data alert %+v (from: the last reading)", a)
		}
		payload, _ := senml.EncodeReadings("quiet-site", "quiet-dev", []smartdeal.Reading{{Site: "quiet-site", Device: "quiet-dev", Quantity: "pm10", Unit: "ug/m3",
			Time: time.Now(), Kind: smartdeal.KindNumber, Number: 14}})
		mqtttest.Publish(t, pub, smartdeal.Topics{}.Telemetry("quiet-site", "quiet-dev"), payload)
		testenv.Eventually(t, 10*time.Second, func() bool { return alerts("nodata")[0].Status == alerting.Cleared }, "a reading did not clear")
	})
	t.Run("rate", func(t *testing.T) {
		for i, v := range []float64{1.0, 1.1, 1.3} {
			send("rate-site", base.Add(time.Duration(i)*10*time.Second), v)
		}
		as := alerts("rate")
		if len(as) != 1 || as[0].Value < 0.299 || as[0].Value > 0.301 || !as[0].FiredAt.Equal(base.Add(20*time.Second)) {
			t.Fatalf("rate alerts %+v", as)
		}
	})
	t.Run("atmo", func(t *testing.T) {
		testenv.Eventually(t, 10*time.Second, func() bool { return len(alerts("atmo")) == 1 }, "ATMO dégradé did not fire")
		a := alerts("atmo")[0]
		if a.Value != 3 || a.Series.Site != "air-site" || a.Series.Quantity != alerting.AtmoQuantity {
			t.Errorf("atmo alert %+v", a)
		}
		x, err := svc.Atmo(ctx, "air-site", time.Now())
		if err != nil || x.Class != 3 || !x.Provisional || !x.Partial || x.Dominant[0] != "o3" {
			t.Errorf("index %+v %v", x, err)
		}
	})
	t.Run("run checked against InfluxDB", func(t *testing.T) {
		send("verify-site", base, 2.6)
		send("verify-site", base.Add(12*time.Second), 2.7) // held 12 s here, but InfluxDB shows a dip at 5 s
		if as := alerts("verify"); len(as) != 0 {
			t.Fatalf("fired through a dip: %+v", as)
		}
		send("verify-site", base.Add(17*time.Second), 2.7) // 11 s after the dip
		as := alerts("verify")
		if len(as) != 1 || !as[0].From.Equal(base.Add(6*time.Second)) || !as[0].FiredAt.Equal(base.Add(17*time.Second)) {
			t.Fatalf("alerts %+v: want one, from the end of the dip", as)
		}
	})
	t.Run("late readings belong to the past", func(t *testing.T) {
		// A gateway empties its spool: readings of an hour ago cross the
		// threshold and fall back. The alert is recorded at their time, as
		// past, and its mail says so.
		rm := &civic.User{ID: civic.NewID(), Email: "retard-" + civic.NewID()[:6] + "@risques.test", Name: "G", Role: civic.RoleRiskManager, PasswordHash: "x", Created: time.Now()}
		if err := app.Store().CreateUser(ctx, rm); err != nil {
			t.Fatal(err)
		}
		if err := svc.Subscribe(ctx, rm.ID, rules["late"].ID, ""); err != nil {
			t.Fatal(err)
		}
		hourAgo := now.Add(-time.Hour)
		send("late-site", hourAgo, 3.4)
		send("late-site", hourAgo.Add(time.Minute), 2.0)
		as := alerts("late")
		if len(as) != 1 || !as[0].Past || !as[0].FiredAt.Equal(hourAgo) || as[0].Status != alerting.Cleared || !as[0].ConditionEnd.Equal(hourAgo.Add(time.Minute)) {
			t.Fatalf("late alerts %+v", as)
		}
		m := e.mail.WaitMail(t, rm.Email, "Alerte passée (vigilance rouge)", 15*time.Second)
		if !strings.Contains(m.Text, "appartient au passé") {
			t.Errorf("mail:\n%s", m.Text)
		}
	})
	t.Run("preview", func(t *testing.T) {
		// "Try it": the verify rule, with no hold, over InfluxDB's values
		// (the three written, the dip between): fires at the first, clears
		// at the dip, fires again.
		r := *rules["verify"]
		r.Hold = 0
		p, err := svc.Preview(ctx, &r, base.Add(-time.Minute), now, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if p.Series != 1 || len(p.Firings) != 2 || p.Firings[0].Until == nil || p.Firings[1].Until != nil || p.Firings[0].Severity != alerting.Orange {
			t.Fatalf("preview %+v", p)
		}
		if _, err := svc.Preview(ctx, rules["offline"], base, now, 0); !errors.Is(err, alerting.ErrInvalid) {
			t.Errorf("offline preview: %v", err)
		}
	})
	t.Run("window rebuilt from InfluxDB", func(t *testing.T) {
		send("rebuild-site", base.Add(10*time.Second), 2.7)
		as := alerts("rebuild")
		if len(as) != 1 || !as[0].FiredAt.Equal(base.Add(10*time.Second)) || as[0].From.Before(base) || as[0].From.After(base.Add(time.Second)) {
			t.Fatalf("alerts %+v: want one firing on the first reading, the run from InfluxDB", as)
		}
	})
}

// BenchmarkReadingToAlertPublished measures, on real Mosquitto, InfluxDB
// and SQLite with one evaluator, the time from a reading's publish to the
// retained alert message it causes (fired, then cleared by the next
// reading): p50 and p95 per transition.
func BenchmarkReadingToAlertPublished(b *testing.B) {
	broker := testenv.StartMosquitto(b, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(b)
	e := env{broker: broker.URL(), influx: in.URL, bucket: in.NewDatabase(b) + "/autogen", mail: testenv.SharedMailpit(b)}
	cfg := e.config(sqltest.SQLite(b).DSN, "alerts-bench", "http://127.0.0.1:1/unused")
	cfg.Alerts.Webhooks = nil
	ctx, cancel := context.WithCancel(context.Background())
	app, err := alertsd.New(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testenv.Eventually(b, 10*time.Second, func() bool { return app.BrokerReady(ctx) == nil }, "not subscribed")
	rule := &alerting.Rule{Name: "bench", Enabled: true, Quantity: "water_level", Kind: alerting.Above, Levels: []alerting.Level{{Severity: alerting.Rouge, Threshold: 3}}}
	if err := app.Service().CreateRule(ctx, "bench", rule); err != nil {
		b.Fatal(err)
	}
	got := make(chan time.Time, 16)
	sub := mqtttest.Client(b, broker.URL(), "bench-follower")
	sub.Subscribe(smartdeal.DefaultTopicPrefix+"/alerts/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		if !m.Retained() {
			got <- time.Now()
		}
	}).Wait()
	pub := mqtttest.Client(b, broker.URL(), "bench-gateway")
	var lat []time.Duration
	base := time.Now()
	b.ResetTimer()
	for i := range b.N {
		v := 3.5
		if i%2 == 1 {
			v = 2.0
		}
		payload, _ := senml.EncodeReadings(site, device, []smartdeal.Reading{{Site: site, Device: device, Quantity: "water_level", Unit: "m",
			Time: base.Add(time.Duration(i) * time.Millisecond), Kind: smartdeal.KindNumber, Number: v}})
		sent := time.Now()
		pub.Publish(smartdeal.Topics{}.Telemetry(site, device), 1, false, payload).Wait()
		select {
		case at := <-got:
			lat = append(lat, at.Sub(sent))
		case <-time.After(10 * time.Second):
			b.Fatalf("reading %d: no alert message", i)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
