package alertstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

func riverRule() *alerting.Rule {
	clear := 2.3
	return &alerting.Rule{Name: "Crue de la Roya", Enabled: true, Site: "breil-sur-roya", Quantity: "water_level", Kind: alerting.Above,
		Hold: 10 * time.Minute, Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 2.5, Clear: &clear}, {Severity: alerting.Rouge, Threshold: 3.2}}}
}

func reading(min int, v float64) smartdeal.Reading {
	return smartdeal.Reading{Site: "breil-sur-roya", Device: "breil-sur-roya-river-1", Quantity: "water_level", Unit: "m",
		Time: time.Date(2026, 3, 2, 10, min, 0, 0, time.UTC), Kind: smartdeal.KindNumber, Number: v}
}

// TestAlertRulesAndStates: rules round-trip; a state is written by
// compare-and-set (a stale version is a conflict); the unique index refuses
// a second open alert for a key; clearing twice is a conflict; an
// acknowledgement on a stale version is a conflict; transitions keep who
// and when.
func TestAlertRulesAndStates(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			r := riverRule()
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			r.ID, r.Created, r.Updated = alerting.NewID(), time.Now().UTC().Truncate(time.Millisecond), time.Now().UTC().Truncate(time.Millisecond)
			if err := s.SaveAlertRule(ctx, r, true); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveAlertRule(ctx, r, true); !errors.Is(err, alerting.ErrConflict) {
				t.Errorf("second create: %v", err)
			}
			got, err := s.AlertRule(ctx, r.ID)
			if err != nil || got.Name != r.Name || got.Hold != r.Hold || len(got.Levels) != 2 || got.Levels[0].ClearValue() != 2.3 || !got.Enabled {
				t.Fatalf("rule %+v, %v", got, err)
			}
			if _, err := s.AlertRule(ctx, "nope"); !errors.Is(err, alerting.ErrNotFound) {
				t.Errorf("missing rule: %v", err)
			}

			k := alerting.Key{RuleID: r.ID, Series: "breil-sur-roya/river/water_level", Level: 0}
			st, v, err := s.AlertState(ctx, k)
			if err != nil || v != 0 || st.Phase != "" {
				t.Fatalf("no state: %+v %d %v", st, v, err)
			}
			v1, err := s.ApplyAlertState(ctx, k, 0, alerting.State{Phase: alerting.Pending, Since: time.Unix(100, 0).UTC()}, nil)
			if err != nil || v1 != 1 {
				t.Fatalf("insert state: %d %v", v1, err)
			}
			if _, err := s.ApplyAlertState(ctx, k, 0, alerting.State{}, nil); !errors.Is(err, alerting.ErrConflict) {
				t.Errorf("second insert: %v", err)
			}
			a := &alerting.Alert{ID: alerting.NewID(), RuleID: r.ID, RuleName: r.Name, Kind: r.Kind, Severity: alerting.Orange,
				Series:    smartdeal.Series{Site: "breil-sur-roya", Device: "river", Quantity: "water_level", Unit: "m"},
				Threshold: 2.5, Value: 2.7, Peak: 2.8, From: time.Unix(100, 0).UTC(), FiredAt: time.Unix(700, 0).UTC(), Recorded: time.Unix(701, 0).UTC()}
			fire := &alerting.Change{Open: a, Deliveries: []alerting.Delivery{{ID: alerting.NewID(), Seq: 1, Channel: alerting.ChannelMQTT, Target: "t/1",
				AlertIDs: []string{a.ID}, Payload: []byte(`{}`), Created: time.Now(), Next: time.Now()}}}
			v2, err := s.ApplyAlertState(ctx, k, v1, alerting.State{Phase: alerting.Firing, AlertID: a.ID}, fire)
			if err != nil || v2 != 2 {
				t.Fatalf("fire: %d %v", v2, err)
			}
			if _, err := s.ApplyAlertState(ctx, k, v1, alerting.State{}, nil); !errors.Is(err, alerting.ErrConflict) {
				t.Errorf("stale version: %v", err)
			}
			// The last guard: a second open alert on the same key, even
			// through another state row's write, is refused.
			k2 := alerting.Key{RuleID: r.ID, Series: "other", Level: 0}
			dup := *a
			dup.ID = alerting.NewID()
			if _, err := s.ApplyAlertState(ctx, k2, 0, alerting.State{}, &alerting.Change{Open: &dup}); !errors.Is(err, alerting.ErrConflict) {
				t.Errorf("second open alert: %v", err)
			}
			if _, v, _ := s.AlertState(ctx, k2); v != 0 {
				t.Error("the refused change left its state")
			}
			open, err := s.Alerts(ctx, alerting.AlertFilter{Open: true})
			if err != nil || len(open) != 1 || open[0].ID != a.ID || open[0].Status != alerting.Active || open[0].Series.Unit != "m" || open[0].Peak != 2.8 {
				t.Fatalf("open alerts %+v %v", open, err)
			}

			// Acknowledge on the current version, then a stale one.
			ack := open[0]
			now := time.Now().UTC().Truncate(time.Millisecond)
			ack.Status, ack.AckBy, ack.AckAt, ack.AckComment, ack.Version = alerting.Acknowledged, "rm@x", &now, "équipe prévenue", ack.Version+1
			if err := s.UpdateAlert(ctx, ack, alerting.Transition{AlertID: a.ID, From: alerting.Active, To: alerting.Acknowledged, At: now, By: "rm@x", Comment: "équipe prévenue"}, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.UpdateAlert(ctx, ack, alerting.Transition{AlertID: a.ID, To: alerting.Acknowledged, At: now, By: "rm@x"}, nil); !errors.Is(err, alerting.ErrConflict) {
				t.Errorf("stale acknowledgement: %v", err)
			}
			end := time.Unix(900, 0).UTC()
			clear := &alerting.Change{ClearID: a.ID, ConditionEnd: end, Recorded: time.Unix(901, 0).UTC()}
			v3, err := s.ApplyAlertState(ctx, k, v2, alerting.State{Phase: alerting.Idle}, clear)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyAlertState(ctx, k, v3, alerting.State{Phase: alerting.Idle}, clear); !errors.Is(err, alerting.ErrConflict) {
				t.Errorf("second clear: %v", err)
			}
			got2, err := s.Alert(ctx, a.ID)
			if err != nil || got2.Status != alerting.Cleared || got2.ConditionEnd == nil || !got2.ConditionEnd.Equal(end) || got2.AckBy != "rm@x" {
				t.Fatalf("cleared %+v %v", got2, err)
			}
			// Once cleared, the key may fire again.
			again := *a
			again.ID = alerting.NewID()
			if _, err := s.ApplyAlertState(ctx, k, v3, alerting.State{Phase: alerting.Firing}, &alerting.Change{Open: &again}); err != nil {
				t.Errorf("fire again: %v", err)
			}
			trs, err := s.AlertTransitions(ctx, a.ID)
			if err != nil || len(trs) != 3 || trs[0].To != alerting.Active || trs[0].By != alerting.Evaluator ||
				trs[1].To != alerting.Acknowledged || trs[1].By != "rm@x" || trs[1].Comment != "équipe prévenue" || trs[2].From != alerting.Acknowledged || trs[2].To != alerting.Cleared {
				t.Errorf("transitions %+v %v", trs, err)
			}

			// Deleting the rule closes its open alert and drops its states.
			closed, err := s.DeleteAlertRule(ctx, r.ID, "admin@x", time.Now())
			if err != nil || len(closed) != 1 || closed[0].ID != again.ID || closed[0].Status != alerting.Closed {
				t.Fatalf("delete: %+v %v", closed, err)
			}
			if _, v, _ := s.AlertState(ctx, k); v != 0 {
				t.Error("state survived its rule")
			}
		})
	}
}

// TestAlertDeliveries: of one target only the oldest is due (order kept);
// two workers never take the same; a failure is retried, the last attempt
// is a dead letter; a waiting mail takes the later alerts of its group.
func TestAlertDeliveries(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s, other := b.Store, sqltest.Replica(t, b).Store
			now := time.Now().UTC().Truncate(time.Millisecond)
			mk := func(seq int64, channel, target string, alert string) alerting.Delivery {
				return alerting.Delivery{ID: fmt.Sprint("d", seq), Seq: seq, Channel: channel, Target: target, RuleID: "r1", AlertIDs: []string{alert},
					Payload: []byte(fmt.Sprint(seq)), Created: now, Next: now}
			}
			chans := []string{alerting.ChannelMQTT, alerting.ChannelWebhook, alerting.ChannelMail}
			if err := s.EnqueueDeliveries(ctx, []alerting.Delivery{
				mk(1, alerting.ChannelMQTT, "a/1", "x"), mk(2, alerting.ChannelMQTT, "a/1", "x"), mk(3, alerting.ChannelWebhook, "http://h", "x"),
			}); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var claimed []*alerting.Delivery
			var wg sync.WaitGroup
			for _, st := range []interface {
				ClaimDeliveries(context.Context, time.Time, time.Duration, int, []string) ([]*alerting.Delivery, error)
			}{s, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ds, err := st.ClaimDeliveries(ctx, now, time.Minute, 10, chans)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					claimed = append(claimed, ds...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			ids := map[string]bool{}
			for _, d := range claimed {
				ids[d.ID] = true
			}
			if len(claimed) != 2 || !ids["d1"] || !ids["d3"] {
				t.Fatalf("claimed %v (want d1 and d3 once each: d2 waits for d1)", ids)
			}
			// d1 fails: retried later, d2 still waits behind it.
			if err := s.FinishDelivery(ctx, "d1", errors.New("broker down"), now.Add(time.Second), false); err != nil {
				t.Fatal(err)
			}
			if ds, _ := s.ClaimDeliveries(ctx, now.Add(500*time.Millisecond), time.Minute, 10, chans); len(ds) != 0 {
				t.Errorf("claimed %d before the retry", len(ds))
			}
			ds, _ := s.ClaimDeliveries(ctx, now.Add(2*time.Second), time.Minute, 10, chans)
			if len(ds) != 1 || ds[0].ID != "d1" || ds[0].Attempts != 2 {
				t.Fatalf("retry %+v", ds)
			}
			if err := s.FinishDelivery(ctx, "d1", nil, time.Time{}, false); err != nil {
				t.Fatal(err)
			}
			ds, _ = s.ClaimDeliveries(ctx, now.Add(2*time.Second), time.Minute, 10, chans)
			if len(ds) != 1 || ds[0].ID != "d2" || string(ds[0].Payload) != "2" {
				t.Fatalf("after d1: %+v", ds)
			}
			if err := s.FinishDelivery(ctx, "d2", nil, time.Time{}, false); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishDelivery(ctx, "d3", errors.New("500"), time.Time{}, true); err != nil {
				t.Fatal(err)
			}
			all, _ := s.Deliveries(ctx, alerting.ChannelWebhook, 10)
			if len(all) != 1 || all[0].Dead == nil || all[0].LastError != "500" {
				t.Errorf("dead letter %+v", all)
			}

			// Storm grouping: the second mail of the group joins the first.
			m1, m2 := mk(10, alerting.ChannelMail, "rm@x", "a1"), mk(11, alerting.ChannelMail, "rm@x", "a2")
			m1.Group, m2.Group = "r1|rm@x", "r1|rm@x"
			m1.Next, m2.Next = now.Add(time.Minute), now.Add(time.Minute)
			if err := s.EnqueueDeliveries(ctx, []alerting.Delivery{m1}); err != nil {
				t.Fatal(err)
			}
			if err := other.EnqueueDeliveries(ctx, []alerting.Delivery{m2}); err != nil {
				t.Fatal(err)
			}
			if last, err := s.LastMail(ctx, "r1", "rm@x"); err != nil || !last.Equal(now.Add(time.Minute)) {
				t.Errorf("last mail %s %v", last, err)
			}
			ds, _ = s.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 10, chans)
			if len(ds) != 1 || len(ds[0].AlertIDs) != 2 || ds[0].AlertIDs[1] != "a2" {
				t.Fatalf("grouped mail %+v", ds)
			}
			// Claimed, the group is closed: a third alert starts a new mail.
			m3 := mk(12, alerting.ChannelMail, "rm@x", "a3")
			m3.Group = "r1|rm@x"
			if err := s.EnqueueDeliveries(ctx, []alerting.Delivery{m3}); err != nil {
				t.Fatal(err)
			}
			if all, _ := s.Deliveries(ctx, alerting.ChannelMail, 10); len(all) != 2 {
				t.Errorf("mails %d, want 2", len(all))
			}
		})
	}
}

// TestAlertServiceOnStore runs the evaluator on the real store: held above
// the threshold it fires once, clears, fires again; two service replicas
// (their own pools) fed the same readings concurrently open one alert and
// clear it once; the mail of a subscriber is queued.
func TestAlertServiceOnStore(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			u := &civic.User{ID: civic.NewID(), Email: "rm-" + b.Name + "@example.fr", Name: "Risque", Role: civic.RoleRiskManager, PasswordHash: "x", Created: time.Now()}
			if err := b.Store.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			mailer := mailFunc(func(context.Context, alerting.Mail) error { return nil })
			var svcs []*alerting.Service
			for _, st := range []sqltest.Backend{b, sqltest.Replica(t, b)} {
				svc, err := alerting.New(alerting.Config{}, alerting.Deps{Store: st.Store, Mailer: mailer})
				if err != nil {
					t.Fatal(err)
				}
				svcs = append(svcs, svc)
			}
			r := riverRule()
			if err := svcs[0].CreateRule(ctx, u.ID, r); err != nil {
				t.Fatal(err)
			}
			if err := svcs[0].Subscribe(ctx, u.ID, r.ID, ""); err != nil {
				t.Fatal(err)
			}
			if err := svcs[1].LoadRules(ctx); err != nil {
				t.Fatal(err)
			}
			// 2.6 from 10:00, held 10 min at 10:10: fires (orange); 2.2 at
			// 10:15 clears; held again from 10:20, fires at 10:30.
			values := []smartdeal.Reading{reading(0, 2.6), reading(5, 2.7), reading(10, 2.8), reading(12, 2.4), reading(15, 2.2),
				reading(20, 2.6), reading(25, 2.6), reading(30, 2.7)}
			for _, rd := range values {
				var wg sync.WaitGroup
				for _, svc := range svcs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := svc.HandleReadings(ctx, []smartdeal.Reading{rd}); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			all, err := svcs[0].Alerts(ctx, alerting.AlertFilter{RuleID: r.ID})
			if err != nil || len(all) != 2 {
				t.Fatalf("alerts %+v %v (want 2: fired, cleared, fired again)", all, err)
			}
			second, first := all[0], all[1]
			if first.Status != alerting.Cleared || first.Severity != alerting.Orange || !first.FiredAt.Equal(reading(10, 0).Time) ||
				!first.From.Equal(reading(0, 0).Time) || first.ConditionEnd == nil || !first.ConditionEnd.Equal(reading(15, 0).Time) || !first.Past {
				t.Errorf("first alert %+v", first)
			}
			if second.Status != alerting.Active || !second.FiredAt.Equal(reading(30, 0).Time) {
				t.Errorf("second alert %+v", second)
			}
			trs, _ := svcs[1].History(ctx, first.ID)
			if len(trs) != 2 {
				t.Errorf("first alert's transitions %+v", trs)
			}
			// Acknowledge the active one on replica 1, close the cleared
			// one on replica 0; closing an active one is refused.
			if _, err := svcs[1].Acknowledge(ctx, second.ID, u.Email, "vu"); err != nil {
				t.Fatal(err)
			}
			if _, err := svcs[0].Acknowledge(ctx, second.ID, u.Email, "encore"); !errors.Is(err, alerting.ErrTransition) {
				t.Errorf("second acknowledgement: %v", err)
			}
			if _, err := svcs[0].Close(ctx, second.ID, u.Email, ""); !errors.Is(err, alerting.ErrTransition) {
				t.Errorf("close an acknowledged alert: %v", err)
			}
			if a, err := svcs[0].Close(ctx, first.ID, u.Email, "fin de crue"); err != nil || a.Status != alerting.Closed {
				t.Errorf("close: %+v %v", a, err)
			}
			// Notifications: per change one retained MQTT message (fired,
			// cleared, fired, acknowledged, closed), and the mails of the
			// two firings in one group (the storm interval).
			mq, _ := b.Store.Deliveries(ctx, alerting.ChannelMQTT, 100)
			mails, _ := b.Store.Deliveries(ctx, alerting.ChannelMail, 100)
			if len(mq) != 5 || len(mails) != 1 || len(mails[0].AlertIDs) != 2 || mails[0].Target != u.Email {
				t.Errorf("%d MQTT deliveries (want 5), mails %+v (want one of two alerts)", len(mq), mails)
			}
		})
	}
}

// TestAlertWebhookDeadLetter: a webhook receiver that always fails gets
// max_attempts attempts with backoff, then the delivery is a dead letter
// kept with its last error; the retained MQTT message (no publisher here)
// waits for a process that can publish it.
func TestAlertWebhookDeadLetter(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				http.Error(w, "en panne", http.StatusBadGateway)
			}))
			defer srv.Close()
			svc, err := alerting.New(alerting.Config{Webhooks: []string{srv.URL}, WebhookSecret: "k", RetryBase: 10 * time.Millisecond,
				RetryMax: 20 * time.Millisecond, MaxAttempts: 3}, alerting.Deps{Store: b.Store})
			if err != nil {
				t.Fatal(err)
			}
			r := riverRule()
			r.Hold = 0
			if err := svc.CreateRule(ctx, "test", r); err != nil {
				t.Fatal(err)
			}
			if err := svc.HandleReadings(ctx, []smartdeal.Reading{reading(0, 2.6)}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				svc.DeliverDue(ctx)
				ds, _ := b.Store.Deliveries(ctx, alerting.ChannelWebhook, 10)
				if len(ds) == 1 && ds[0].Dead != nil {
					if ds[0].Attempts != 3 || hits.Load() != 3 || !strings.Contains(ds[0].LastError, "502") {
						t.Errorf("dead letter %+v after %d POSTs", ds[0], hits.Load())
					}
					if n := svc.Metrics().DeadLetters.Load(); n != 1 {
						t.Errorf("dead letters metric %d", n)
					}
					// Without a publisher the MQTT message is left for a
					// process that has one, untouched.
					if mq, _ := b.Store.Deliveries(ctx, alerting.ChannelMQTT, 10); len(mq) != 1 || mq[0].Attempts != 0 || mq[0].Dead != nil {
						t.Errorf("MQTT delivery %+v", mq)
					}
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Fatalf("no dead letter after %d POSTs", hits.Load())
		})
	}
}

// TestAlertStateCache: with the replica's state cache, one replica takes
// the same decisions as without, and reads the store less.
func TestAlertStateCache(t *testing.T) {
	b := sqltest.SQLite(t)
	ctx := context.Background()
	var statements []int64
	for _, cache := range []time.Duration{0, time.Minute} {
		svc, err := alerting.New(alerting.Config{StateCache: cache}, alerting.Deps{Store: b.Store})
		if err != nil {
			t.Fatal(err)
		}
		r := riverRule()
		if err := svc.CreateRule(ctx, "test", r); err != nil {
			t.Fatal(err)
		}
		before := b.Store.Statements()
		for _, rd := range []smartdeal.Reading{reading(0, 2.6), reading(5, 2.7), reading(10, 2.8), reading(11, 2.7), reading(12, 2.4),
			reading(13, 2.45), reading(15, 2.2), reading(16, 2.1), reading(17, 2.0), reading(20, 2.6), reading(30, 2.7)} {
			if err := svc.HandleReadings(ctx, []smartdeal.Reading{rd}); err != nil {
				t.Fatal(err)
			}
		}
		statements = append(statements, b.Store.Statements()-before)
		all, _ := svc.Alerts(ctx, alerting.AlertFilter{RuleID: r.ID})
		if len(all) != 2 || all[1].Status != alerting.Cleared || all[0].Status != alerting.Active {
			t.Errorf("cache %s: alerts %+v", cache, all)
		}
	}
	if statements[1] >= statements[0] {
		t.Errorf("statements without cache %d, with %d", statements[0], statements[1])
	}
}

type mailFunc func(context.Context, alerting.Mail) error

func (f mailFunc) SendMail(ctx context.Context, m alerting.Mail) error { return f(ctx, m) }

// BenchmarkAlertEvaluation is the evaluation's cost per reading on a real
// SQLite store with 200 rules (20 quantities × 10 rules, as the alerting
// package's benchmark), for a reading 10 of them watch, with no edge: each
// rule level's state read from the store, or from the replica's cache.
func BenchmarkAlertEvaluation(b *testing.B) {
	for _, c := range []struct {
		name  string
		cache time.Duration
	}{{"store", 0}, {"cache", time.Minute}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			st := sqltest.SQLite(b).Store
			svc, err := alerting.New(alerting.Config{StateCache: c.cache}, alerting.Deps{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			for q := range 20 {
				for i := range 10 {
					r := &alerting.Rule{Name: fmt.Sprint("r", q, i), Enabled: true, Quantity: fmt.Sprintf("q%d", q), Kind: alerting.Above, Hold: time.Minute,
						Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 100}}}
					if err := svc.CreateRule(ctx, "bench", r); err != nil {
						b.Fatal(err)
					}
				}
			}
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			rs := []smartdeal.Reading{{Site: "s1", Device: "d1", Quantity: "q3", Unit: "x", Kind: smartdeal.KindNumber}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				rs[0].Time, rs[0].Number = t0.Add(time.Duration(i)*time.Second), float64(i%7)
				if err := svc.HandleReadings(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAlertSubscriptions: a user's subscriptions list the rules (with
// their name) before the sites, only that user's; subscribing twice keeps
// one; a deleted rule's subscription stays listed without a name; hostile
// input (both or neither of rule and site, a bad site id) is refused.
func TestAlertSubscriptions(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			var users []*civic.User
			for i := range 2 {
				u := &civic.User{ID: civic.NewID(), Email: fmt.Sprintf("abo%d-%s@example.fr", i, b.Name), Name: "Risque", Role: civic.RoleRiskManager, PasswordHash: "x", Created: time.Now()}
				if err := b.Store.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				users = append(users, u)
			}
			svc, err := alerting.New(alerting.Config{}, alerting.Deps{Store: b.Store, Mailer: mailFunc(func(context.Context, alerting.Mail) error { return nil })})
			if err != nil {
				t.Fatal(err)
			}
			r := riverRule()
			if err := svc.CreateRule(ctx, users[0].ID, r); err != nil {
				t.Fatal(err)
			}
			for _, s := range [][2]string{{"", "var-estuaire"}, {r.ID, ""}, {r.ID, ""}} {
				if err := svc.Subscribe(ctx, users[0].ID, s[0], s[1]); err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.Subscribe(ctx, users[1].ID, "", "nice-port"); err != nil {
				t.Fatal(err)
			}
			for _, bad := range [][2]string{{"", ""}, {r.ID, "var-estuaire"}, {"", "../etc"}, {"", "Nice Port'; --"}} {
				if err := svc.Subscribe(ctx, users[0].ID, bad[0], bad[1]); !errors.Is(err, alerting.ErrInvalid) {
					t.Errorf("subscribe %q: %v (want ErrInvalid)", bad, err)
				}
			}
			subs, err := svc.Subscriptions(ctx, users[0].ID)
			if err != nil || len(subs) != 2 || subs[0].RuleID != r.ID || subs[0].RuleName != r.Name || subs[0].Site != "" ||
				subs[1].Site != "var-estuaire" || subs[1].RuleID != "" || subs[1].Created.IsZero() {
				t.Fatalf("subscriptions %+v %v", subs, err)
			}
			if err := svc.DeleteRule(ctx, users[0].ID, r.ID); err != nil {
				t.Fatal(err)
			}
			if subs, _ = svc.Subscriptions(ctx, users[0].ID); len(subs) != 2 || subs[0].RuleID != r.ID || subs[0].RuleName != "" {
				t.Errorf("after deleting the rule %+v", subs)
			}
			if err := svc.Unsubscribe(ctx, users[0].ID, "", "var-estuaire"); err != nil {
				t.Fatal(err)
			}
			if subs, _ = svc.Subscriptions(ctx, users[0].ID); len(subs) != 1 || subs[0].RuleID != r.ID {
				t.Errorf("after unsubscribing the site %+v", subs)
			}
			if subs, _ = svc.Subscriptions(ctx, users[1].ID); len(subs) != 1 || subs[0].Site != "nice-port" {
				t.Errorf("other user's %+v", subs)
			}
			if subs, err = svc.Subscriptions(ctx, "nobody"); err != nil || len(subs) != 0 {
				t.Errorf("unknown user %+v %v", subs, err)
			}
		})
	}
}
