package gateway_test

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/cd06/smartdeal/devices/forward"
	"github.com/cd06/smartdeal/devices/gateway"
	"github.com/cd06/smartdeal/devices/spool"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestBrokerOutage30s stops the broker for 30 s while three sensors read at
// 10 Hz, restarts it, and accounts for every reading: each one taken is either
// received by a persistent-session subscriber or still in the spool when the
// gateway stops; per device, each lane (backlog, live) arrives in order.
func TestBrokerOutage30s(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-outage", "smartdeal/v1/+/+/telemetry")
	cs := newCounters()
	cfg := baseConfig(t, broker.URL(), sensors(3, 100*time.Millisecond))
	cfg.Forward.DrainRate = 200
	g, stop := start(t, cfg, gateway.WithOpener(cs.open))
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Connected() && rec.Len() >= 20 }, "no telemetry before the outage")

	broker.Stop()
	time.Sleep(30 * time.Second) // the scenario: a 30 s outage
	during := g.Stats()
	if during.Spool.Depth < 3*10*25 {
		t.Fatalf("spool depth after 30 s offline = %d, want >= 750", during.Spool.Depth)
	}
	broker.Start(t)
	testenv.Eventually(t, 60*time.Second, func() bool {
		s := g.Stats()
		return s.Forward.Connected && !s.Forward.BacklogLeft && s.Spool.Pending < 10
	}, "backlog not drained: %+v", g.Stats())
	connAt := g.Stats().Forward.LastConnect
	time.Sleep(500 * time.Millisecond)
	stop()

	// Whatever was not delivered is still in the spool.
	sp, err := spool.Open(filepath.Join(cfg.Spool.Dir, "spool.db"), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	left, err := sp.Peek(0, 1_000_000)
	sp.Close()
	if err != nil {
		t.Fatal(err)
	}
	var leftMsgs []mqtttest.Message
	for _, e := range left {
		leftMsgs = append(leftMsgs, mqtttest.Message{Topic: e.Topic, Payload: e.Payload})
	}
	received := firsts(decodeTelemetry(t, rec.Messages()))
	remaining := firsts(decodeTelemetry(t, leftMsgs))
	for i := range 3 {
		dev := "dev" + string(rune('0'+i))
		n := int(cs.get(dev).n.Load())
		have := map[int]bool{}
		for _, r := range received[dev] {
			have[r.seq] = true
		}
		for _, r := range remaining[dev] {
			have[r.seq] = true
		}
		for s := range n {
			if !have[s] {
				t.Fatalf("%s: reading %d of %d neither received nor in the spool", dev, s, n)
			}
		}
		if len(remaining[dev]) > 5 {
			t.Fatalf("%s: %d readings still in the spool after the drain", dev, len(remaining[dev]))
		}
		// Order: the backlog (taken before the reconnection) and the live
		// lane (taken after) each arrive in order; times follow the sequence.
		margin := 300 * time.Millisecond
		lastBack, lastLive := -1, -1
		for _, r := range received[dev] {
			switch {
			case r.time.Before(connAt.Add(-margin)):
				if r.seq <= lastBack {
					t.Fatalf("%s: backlog reading %d after %d", dev, r.seq, lastBack)
				}
				lastBack = r.seq
			case r.time.After(connAt.Add(margin)):
				if r.seq <= lastLive {
					t.Fatalf("%s: live reading %d after %d", dev, r.seq, lastLive)
				}
				lastLive = r.seq
			}
		}
		sorted := append([]reading(nil), received[dev]...)
		sort.Slice(sorted, func(a, b int) bool { return sorted[a].seq < sorted[b].seq })
		for j := 1; j < len(sorted); j++ {
			if !sorted[j].time.After(sorted[j-1].time) {
				t.Fatalf("%s: reading %d at %s not after reading %d at %s", dev, sorted[j].seq, sorted[j].time, sorted[j-1].seq, sorted[j-1].time)
			}
		}
		t.Logf("%s: %d readings taken, %d received, %d left in spool", dev, n, len(received[dev]), len(remaining[dev]))
	}
	t.Logf("spool depth after 30 s offline: %d; drained after reconnection at %s", during.Spool.Depth, connAt.Format(time.RFC3339Nano))
}

// TestSpoolFullDropsOldest fills a small spool while the broker is down: the
// oldest readings are dropped and counted, the newest are delivered, and the
// status and metrics say how many were dropped.
func TestSpoolFullDropsOldest(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-full", "smartdeal/v1/test-site/#")
	broker.Stop()
	cs := newCounters()
	cfg := baseConfig(t, broker.URL(), sensors(1, 100*time.Millisecond))
	cfg.Spool.MaxEntries = 30
	g, stop := start(t, cfg, gateway.WithOpener(cs.open))
	testenv.Eventually(t, 20*time.Second, func() bool { return g.Stats().Spool.Dropped >= 20 }, "nothing dropped: %+v", g.Stats().Spool)
	if d := g.Stats().Spool.Depth; d > 30 {
		t.Fatalf("spool depth %d over its bound of 30", d)
	}
	broker.Start(t)
	var status map[string]any
	testenv.Eventually(t, 20*time.Second, func() bool {
		for _, m := range rec.Messages() {
			if strings.HasSuffix(m.Topic, "/gateway/status") {
				_ = json.Unmarshal(m.Payload, &status)
				if status["state"] == "online" && status["spool_dropped"].(float64) >= 20 {
					return true
				}
			}
		}
		return false
	}, "no online status reporting spool_dropped >= 20")
	mfs, err := g.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	if v := metricValue(mfs, "smartdeal_gateway_spool_dropped_total"); v < 20 {
		t.Fatalf("smartdeal_gateway_spool_dropped_total = %g, want >= 20", v)
	}
	testenv.Eventually(t, 20*time.Second, func() bool { return g.Stats().Spool.Pending == 0 }, "spool not drained")
	cs.get("dev0").fail.Store(true) // stop taking readings
	time.Sleep(300 * time.Millisecond)
	testenv.Eventually(t, 20*time.Second, func() bool { return g.Stats().Spool.Pending == 0 }, "spool not drained")
	n := int(cs.get("dev0").n.Load())
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, r := range firsts(decodeTelemetry(t, rec.Messages()))["dev0"] {
			if r.seq == n-1 {
				return true
			}
		}
		return false
	}, "newest reading %d not received", n-1)
	stop()
	got := firsts(decodeTelemetry(t, rec.Messages()))["dev0"]
	dropped := int(g.Stats().Spool.Dropped)
	// Every reading taken was either received or counted as dropped (an entry
	// dropped while its publish was in flight may still arrive: the counter
	// can over-count by the in-flight window, never under-count), and the
	// dropped ones are the oldest: what arrived is the contiguous newest run.
	sort.Slice(got, func(a, b int) bool { return got[a].seq < got[b].seq })
	if len(got)+dropped < n || len(got)+dropped > n+forward.DefaultMaxInflight {
		t.Fatalf("%d received + %d dropped, %d taken", len(got), dropped, n)
	}
	if got[0].seq > dropped {
		t.Fatalf("first reading received is %d, but only %d were counted dropped", got[0].seq, dropped)
	}
	for i, r := range got {
		if r.seq != got[0].seq+i {
			t.Fatalf("received reading %d is %d, want %d: a gap among the newest", i, r.seq, got[0].seq+i)
		}
	}
	t.Logf("status: %v; received %d..%d of %d, dropped %d", status, got[0].seq, got[len(got)-1].seq, n, dropped)
}

func metricValue(mfs []*dto.MetricFamily, name string) float64 {
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
		return sum
	}
	return -1
}

// TestClockGuard takes readings while the wall clock reads 1970 and checks that
// they go out only once the clock is set, stamped with the real time at which
// they were taken (from the monotonic clock).
func TestClockGuard(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-clock", "smartdeal/v1/+/+/telemetry")
	var offset atomic.Int64
	offset.Store(int64(-time.Since(time.Date(1970, 1, 1, 0, 0, 10, 0, time.UTC))))
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	cs := newCounters()
	cfg := baseConfig(t, broker.URL(), sensors(2, 100*time.Millisecond))
	begin := time.Now()
	g, stop := start(t, cfg, gateway.WithOpener(cs.open), gateway.WithClock(clock),
		gateway.WithMinClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Connected() && g.Stats().Held >= 20 }, "readings not held: %+v", g.Stats())
	time.Sleep(200 * time.Millisecond)
	if n := len(decodeTelemetry(t, rec.Messages())); n != 0 {
		t.Fatalf("%d readings went out while the clock read 1970", n)
	}
	if g.Stats().ClockOK {
		t.Fatal("clock reported good while it reads 1970")
	}
	// NTP sets the clock.
	offset.Store(0)
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Stats().ClockOK && g.Stats().Held == 0 }, "held readings not released")
	setAt := time.Now()
	taken := map[string]int{"dev0": int(cs.get("dev0").n.Load()), "dev1": int(cs.get("dev1").n.Load())}
	testenv.Eventually(t, 10*time.Second, func() bool {
		got := firsts(decodeTelemetry(t, rec.Messages()))
		return len(got["dev0"]) >= taken["dev0"] && len(got["dev1"]) >= taken["dev1"]
	}, "held readings not delivered")
	stop()
	all := firsts(decodeTelemetry(t, rec.Messages()))
	for _, dev := range []string{"dev0", "dev1"} {
		rs := all[dev]
		sort.Slice(rs, func(a, b int) bool { return rs[a].seq < rs[b].seq })
		if len(rs) < 8 || rs[0].seq != 0 {
			t.Fatalf("%s: %d readings, first %d", dev, len(rs), rs[0].seq)
		}
		for j, r := range rs {
			if r.time.Before(begin.Add(-time.Second)) || r.time.After(time.Now()) {
				t.Fatalf("%s: reading %d stamped %s, outside the test's run [%s, now]", dev, r.seq, r.time, begin)
			}
			// Stamped with the real time the read was taken (the gateway
			// stamps just before Read; the counter notes the time inside it).
			if d := cs.get(dev).takenAt(r.seq).Sub(r.time); d < 0 || d > 20*time.Millisecond {
				t.Fatalf("%s: reading %d stamped %s, taken at %s (off by %s)", dev, r.seq, r.time, cs.get(dev).takenAt(r.seq), d)
			}
			if j > 0 && !r.time.After(rs[j-1].time) {
				t.Fatalf("%s: reading %d not after reading %d", dev, r.seq, rs[j-1].seq)
			}
		}
		if rs[0].time.After(setAt.Add(-time.Second)) {
			t.Fatalf("%s: first reading stamped %s, not when it was taken (clock set at %s)", dev, rs[0].time, setAt)
		}
		t.Logf("%s: %d readings, first stamped %s (test began %s)", dev, len(rs), rs[0].time.Format(time.RFC3339Nano), begin.Format(time.RFC3339Nano))
	}
}

// TestSensorErrorsCountedOthersContinue breaks one sensor: the other keeps
// reading, the errors are counted and reported (event, status, metrics), and
// recovery is reported.
func TestSensorErrorsCountedOthersContinue(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-errors", "smartdeal/v1/test-site/#")
	cs := newCounters()
	cs.get("dev0").fail.Store(true)
	cfg := baseConfig(t, broker.URL(), sensors(2, 100*time.Millisecond))
	g, _ := start(t, cfg, gateway.WithOpener(cs.open))
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Stats().SensorErrors["dev0"] >= 5 }, "errors not counted")
	testenv.Eventually(t, 10*time.Second, func() bool { return len(firsts(decodeTelemetry(t, rec.Messages()))["dev1"]) >= 10 },
		"the healthy sensor stopped with the broken one")
	find := func(topicSuffix, typ string) map[string]any {
		for _, m := range rec.Messages() {
			if !strings.HasSuffix(m.Topic, topicSuffix) {
				continue
			}
			var v map[string]any
			if json.Unmarshal(m.Payload, &v) == nil && (typ == "" || v["type"] == typ) {
				return v
			}
		}
		return nil
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return find("/dev0/event", "sensor_error") != nil }, "no sensor_error event")
	ev := find("/dev0/event", "sensor_error")
	if ev["severity"] != "warning" || !strings.Contains(ev["message"].(string), "NACK") {
		t.Fatalf("event = %v", ev)
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		var st map[string]any
		for _, m := range rec.Messages() {
			if strings.HasSuffix(m.Topic, "/gateway/status") && json.Unmarshal(m.Payload, &st) == nil {
				if errs, ok := st["sensor_errors"].(map[string]any); ok && errs["dev0"].(float64) >= 1 && errs["dev1"].(float64) == 0 {
					return true
				}
			}
		}
		return false
	}, "status does not report the sensor errors")
	mfs, _ := g.Registry().Gather()
	if v := metricValue(mfs, "smartdeal_gateway_sensor_errors_total"); v < 5 {
		t.Fatalf("sensor_errors_total = %g", v)
	}
	cs.get("dev0").fail.Store(false)
	testenv.Eventually(t, 10*time.Second, func() bool { return find("/dev0/event", "sensor_recovered") != nil }, "no sensor_recovered event")
	testenv.Eventually(t, 10*time.Second, func() bool { return len(firsts(decodeTelemetry(t, rec.Messages()))["dev0"]) >= 3 }, "dev0 did not resume")
}

// TestCommands drives read_now, set_interval, report_config and set_mission
// through the cmd topics and checks the answers on the event topics.
func TestCommands(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-cmd", "smartdeal/v1/test-site/#")
	cs := newCounters()
	cfg := baseConfig(t, broker.URL(), sensors(2, 200*time.Millisecond))
	cfg.Broker.Username, cfg.Broker.Password = "gw", "s3cret-pass"
	g, _ := start(t, cfg, gateway.WithOpener(cs.open))
	testenv.Eventually(t, 10*time.Second, g.Connected, "not connected")
	time.Sleep(300 * time.Millisecond) // subscription in place

	answer := func(device, id string) map[string]any {
		t.Helper()
		var got map[string]any
		testenv.Eventually(t, 10*time.Second, func() bool {
			for _, m := range rec.Messages() {
				var v map[string]any
				if m.Topic == "smartdeal/v1/test-site/"+device+"/event" && json.Unmarshal(m.Payload, &v) == nil &&
					v["type"] == "cmd_result" && v["id"] == id {
					got = v
					return true
				}
			}
			return false
		}, "no cmd_result %s on %s/event", id, device)
		return got
	}
	send := func(device, payload string) {
		t.Helper()
		if err := rec.Publish("smartdeal/v1/test-site/"+device+"/cmd", []byte(payload), false); err != nil {
			t.Fatal(err)
		}
	}

	send("gateway", `{"id":"c1","cmd":"report_config"}`)
	a := answer("gateway", "c1")
	if a["ok"] != true {
		t.Fatalf("report_config: %v", a)
	}
	b, _ := json.Marshal(a)
	if strings.Contains(string(b), "s3cret-pass") || !strings.Contains(string(b), `"site":"test-site"`) {
		t.Fatalf("report_config leaks the password or lacks the site: %s", b)
	}

	send("gateway", `{"id":"c2","cmd":"set_interval","sensor":"dev0","interval":"1h"}`)
	if a := answer("gateway", "c2"); a["ok"] != true {
		t.Fatalf("set_interval: %v", a)
	}
	before := cs.get("dev0").n.Load()
	time.Sleep(time.Second)
	if after := cs.get("dev0").n.Load(); after > before+1 {
		t.Fatalf("dev0 read %d times in 1s after set_interval 1h", after-before)
	}

	send("gateway", `{"id":"c3","cmd":"read_now","sensor":"dev0"}`)
	a = answer("gateway", "c3")
	if a["ok"] != true || a["data"].(map[string]any)["dev0"].(map[string]any)["readings"].(float64) != 1 {
		t.Fatalf("read_now: %v", a)
	}
	if after := cs.get("dev0").n.Load(); after < before+1 {
		t.Fatal("read_now did not read")
	}

	// A sensor's own cmd topic commands that sensor; the answer is on its event topic.
	send("dev1", `{"id":"c4","cmd":"read_now"}`)
	if a := answer("dev1", "c4"); a["ok"] != true {
		t.Fatalf("read_now on dev1/cmd: %v", a)
	}

	send("gateway", `{"id":"c5","cmd":"set_mission","mission":"survey-42"}`)
	if a := answer("gateway", "c5"); a["ok"] != true {
		t.Fatalf("set_mission: %v", a)
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, r := range decodeTelemetry(t, rec.Messages()) {
			if r.device == "dev1" && r.mission == "survey-42" {
				return true
			}
		}
		return false
	}, "telemetry after set_mission carries no mission")

	for _, bad := range []struct{ id, payload, want string }{
		{"c6", `{"id":"c6","cmd":"set_interval","sensor":"dev0","interval":"1ms"}`, "interval"},
		{"c7", `{"id":"c7","cmd":"set_interval","sensor":"nope","interval":"10s"}`, "no such sensor"},
		{"c8", `{"id":"c8","cmd":"fly_to_the_moon"}`, "unknown command"},
		{"c9", `{"id":"c9","cmd":"set_mission","mission":"Bad Id"}`, "mission"},
	} {
		send("gateway", bad.payload)
		a := answer("gateway", bad.id)
		if a["ok"] != false || !strings.Contains(a["error"].(string), bad.want) {
			t.Fatalf("%s: answer %v, want an error about %q", bad.payload, a, bad.want)
		}
	}
	send("gateway", `not json`)
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, m := range rec.Messages() {
			if strings.HasSuffix(m.Topic, "/gateway/event") && strings.Contains(string(m.Payload), "malformed command") {
				return true
			}
		}
		return false
	}, "no answer to a malformed command")
	mfs, _ := g.Registry().Gather()
	if v := metricValue(mfs, "smartdeal_gateway_commands_total"); v < 9 {
		t.Fatalf("commands_total = %g, want >= 9", v)
	}
}
