package alertsd_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
