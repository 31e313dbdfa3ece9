package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/senml"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// binary builds cmd/alerts once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "alerts-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "alerts")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// proc is the alerts binary running as a child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
}

func startProc(t *testing.T, name string, env ...string) *proc {
	t.Helper()
	port := testenv.FreePort(t)
	p := &proc{name: name, cmd: exec.Command(binary(t)), out: &syncBuf{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), append(env, fmt.Sprintf("SMARTDEAL_HTTP_ADDR=127.0.0.1:%d", port), "SMARTDEAL_MQTT_CLIENT_ID="+name)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	testenv.Eventually(t, 20*time.Second, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, "%s not ready", name)
	return p
}

// TestSIGKILLWhileActive runs two evaluator processes in one shared group;
// the one that fired an alert is SIGKILLed while the alert is active. The
// other carries on from the state in the store: readings still above the
// threshold add no second alert, and the clearing reading clears the alert
// exactly once (two transitions: fired, cleared; one retained message of
// each), on SQLite and PostgreSQL.
func TestSIGKILLWhileActive(t *testing.T) {
	for _, backend := range []func(testing.TB) sqltest.Backend{sqltest.SQLite, sqltest.Postgres} {
		b := backend(t)
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
			in := testenv.SharedInflux(t)
			bucket := in.NewDatabase(t) + "/autogen"
			st, err := sqlstore.Open(ctx, sqlstore.Config{DSN: b.DSN, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc, err := alerting.New(alerting.Config{}, alerting.Deps{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			rule := &alerting.Rule{Name: "Crue", Enabled: true, Quantity: "water_level", Kind: alerting.Above, Hold: 2 * time.Second,
				Levels: []alerting.Level{{Severity: alerting.Rouge, Threshold: 3.2}}}
			if err := svc.CreateRule(ctx, "test", rule); err != nil {
				t.Fatal(err)
			}
			env := []string{"SMARTDEAL_DB=" + b.DSN, "SMARTDEAL_MQTT_URL=" + broker.URL(), "SMARTDEAL_INFLUX_URL=" + in.URL,
				"SMARTDEAL_INFLUX_BUCKET=" + bucket, "SMARTDEAL_ALERTS_POLL=100ms", "SMARTDEAL_ALERTS_LEASE=2s", "SMARTDEAL_LOG_LEVEL=info"}
			procs := []*proc{startProc(t, "alerts-1-"+b.Name, env...), startProc(t, "alerts-2-"+b.Name, env...)}
			rec := mqtttest.Subscribe(t, broker.URL(), "follower-"+b.Name, smartdeal.DefaultTopicPrefix+"/alerts/#")
			pub := mqtttest.Client(t, broker.URL(), "gateway-"+b.Name)
			base := time.Now().Add(-30 * time.Second).Truncate(time.Second)
			send := func(sec int, v float64) {
				t.Helper()
				payload, err := senml.EncodeReadings("vesubie", "vesubie-river", []smartdeal.Reading{{Site: "vesubie", Device: "vesubie-river",
					Quantity: "water_level", Unit: "m", Time: base.Add(time.Duration(sec) * time.Second), Kind: smartdeal.KindNumber, Number: v}})
				if err != nil {
					t.Fatal(err)
				}
				mqtttest.Publish(t, pub, smartdeal.Topics{}.Telemetry("vesubie", "vesubie-river"), payload)
				time.Sleep(150 * time.Millisecond) // a gateway's pace: one replica at a time
			}
			open := func() []*alerting.Alert {
				as, err := svc.Alerts(ctx, alerting.AlertFilter{RuleID: rule.ID})
				if err != nil {
					t.Fatal(err)
				}
				return as
			}
			for i, v := range []float64{3.3, 3.4, 3.5, 3.6} {
				send(i, v)
			}
			testenv.Eventually(t, 10*time.Second, func() bool { return len(open()) == 1 }, "no alert fired")
			var holder *proc
			testenv.Eventually(t, 5*time.Second, func() bool {
				for _, p := range procs {
					if strings.Contains(p.out.String(), "alert fired") {
						holder = p
					}
				}
				return holder != nil
			}, "no process logged the firing")
			if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-holder.done
			t.Logf("killed %s, which fired the alert", holder.name)
			// Still above: no second alert; then below: cleared once.
			for i, v := range []float64{3.7, 3.5, 3.4} {
				send(10+i, v)
			}
			send(20, 3.0)
			testenv.Eventually(t, 10*time.Second, func() bool {
				as := open()
				return len(as) == 1 && as[0].Status == alerting.Cleared
			}, "alert not cleared by the surviving replica: %+v", open())
			time.Sleep(500 * time.Millisecond)
			as := open()
			if len(as) != 1 || as[0].ConditionEnd == nil || !as[0].ConditionEnd.Equal(base.Add(20*time.Second)) || as[0].Peak != 3.5 || as[0].Value != 3.5 || !as[0].From.Equal(base) {
				t.Fatalf("alerts %+v", as)
			}
			trs, _ := svc.History(ctx, as[0].ID)
			if len(trs) != 2 || trs[0].To != alerting.Active || trs[1].To != alerting.Cleared {
				t.Errorf("transitions %+v (want fired, cleared)", trs)
			}
			testenv.Eventually(t, 10*time.Second, func() bool {
				var evs []string
				for _, m := range rec.Messages() {
					var msg alerting.Message
					if json.Unmarshal(m.Payload, &msg) == nil {
						evs = append(evs, msg.Event)
					}
				}
				return strings.Join(evs, ",") == "fired,cleared"
			}, "retained messages %d", rec.Len())
		})
	}
}
