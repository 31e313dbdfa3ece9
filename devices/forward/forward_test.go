package forward_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/devices/forward"
	"github.com/cd06/smartdeal/devices/spool"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

func newSpool(t *testing.T) *spool.Spool {
	t.Helper()
	s, err := spool.Open(filepath.Join(t.TempDir(), "spool.db"), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// run starts the forwarder and stops it when the test ends.
func run(t *testing.T, f *forward.Forwarder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := f.Run(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// payloads groups received payloads by topic, first occurrences only.
func payloads(msgs []mqtttest.Message) map[string][]int {
	seen := map[string]bool{}
	out := map[string][]int{}
	for _, m := range msgs {
		k := m.Topic + "|" + string(m.Payload)
		if seen[k] {
			continue
		}
		seen[k] = true
		n, _ := strconv.Atoi(string(m.Payload))
		out[m.Topic] = append(out[m.Topic], n)
	}
	return out
}

func TestForwardsInOrderAndEmptiesSpool(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-order", "t/#")
	sp := newSpool(t)
	for i := range 300 {
		if err := sp.Append(fmt.Sprintf("t/dev%d", i%3), []byte(strconv.Itoa(i/3))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := forward.New(sp, forward.Options{Broker: broker.URL(), ClientID: "gw-order", DrainRate: 10000,
		RemoveInterval: 50 * time.Millisecond, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, f)
	// Live entries appended while the forwarder runs.
	testenv.Eventually(t, 10*time.Second, func() bool { return f.Stats().Connected }, "not connected")
	for i := 100; i < 150; i++ {
		for d := range 3 {
			if err := sp.Append(fmt.Sprintf("t/dev%d", d), []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	testenv.Eventually(t, 20*time.Second, func() bool { return sp.Stats().Depth == 0 }, "spool not emptied: %+v", sp.Stats())
	testenv.Eventually(t, 10*time.Second, func() bool { return rec.Len() >= 450 }, "received %d of 450", rec.Len())
	got := payloads(rec.Messages())
	for d := range 3 {
		seq := got[fmt.Sprintf("t/dev%d", d)]
		if len(seq) != 150 {
			t.Fatalf("dev%d: %d messages, want 150", d, len(seq))
		}
		// The backlog (0..99) and the live lane (100..149) are each in order;
		// live entries may overtake the backlog.
		next := [2]int{0, 100}
		for _, n := range seq {
			lane := 0
			if n >= 100 {
				lane = 1
			}
			if n != next[lane] {
				t.Fatalf("dev%d: got %d, want %d: out of order (%v)", d, n, next[lane], seq)
			}
			next[lane]++
		}
	}
	st := f.Stats()
	if st.Acked < 450 || st.Failed != 0 || st.Inflight != 0 {
		t.Fatalf("stats = %+v", st)
	}
	stop()
	if f.Stats().Connected {
		t.Fatal("still connected after Run returned")
	}
}

// TestBacklogPacedLiveNotStarved fills a backlog, then appends live entries while
// the backlog drains at 100/s: the live ones must arrive long before the backlog
// is done, and each lane stays in order.
func TestBacklogPacedLiveNotStarved(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-lanes", "t/#")
	sp := newSpool(t)
	const backlog = 400
	for i := range backlog {
		if err := sp.Append("t/backlog", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := forward.New(sp, forward.Options{Broker: broker.URL(), ClientID: "gw-lanes", DrainRate: 100, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, f)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.Stats().Connected }, "not connected")
	start := time.Now()
	for i := range 20 {
		if err := sp.Append("t/live", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 3*time.Second, func() bool { return len(payloads(rec.Messages())["t/live"]) == 20 },
		"live entries starved behind the backlog")
	liveAt := time.Since(start)
	backlogSoFar := len(payloads(rec.Messages())["t/backlog"])
	if backlogSoFar >= backlog {
		t.Fatalf("backlog already drained (%d) before live arrived: pacing not applied", backlogSoFar)
	}
	testenv.Eventually(t, 20*time.Second, func() bool { return len(payloads(rec.Messages())["t/backlog"]) == backlog },
		"backlog not drained")
	drain := time.Since(start)
	// 400 entries at 100/s take about 4 s: much faster means no pacing.
	if drain < 3*time.Second {
		t.Fatalf("backlog of %d drained in %s at 100/s: pacing not applied", backlog, drain)
	}
	got := payloads(rec.Messages())
	for _, topic := range []string{"t/live", "t/backlog"} {
		for i, n := range got[topic] {
			if n != i {
				t.Fatalf("%s out of order at %d: %v", topic, i, got[topic])
			}
		}
	}
	st := f.Stats()
	if st.LiveSent < 20 || st.BacklogSent < backlog || st.BacklogLeft {
		t.Fatalf("stats = %+v", st)
	}
	t.Logf("live delivered after %s with %d/%d of the backlog sent; backlog drained in %s", liveAt, backlogSoFar, backlog, drain)
}

// TestStrictOrder sends live entries only after the backlog.
func TestStrictOrder(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-strict", "t/#")
	sp := newSpool(t)
	for i := range 100 {
		if err := sp.Append("t/dev", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := forward.New(sp, forward.Options{Broker: broker.URL(), ClientID: "gw-strict", DrainRate: 200, StrictOrder: true, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, f)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.Stats().Connected }, "not connected")
	for i := 100; i < 150; i++ {
		if err := sp.Append("t/dev", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 20*time.Second, func() bool { return len(payloads(rec.Messages())["t/dev"]) == 150 }, "not all delivered")
	for i, n := range payloads(rec.Messages())["t/dev"] {
		if n != i {
			t.Fatalf("out of order at %d", i)
		}
	}
}

// TestReconnectsAfterBrokerOutage starts with the broker down, then brings it
// up, stops it again mid-stream and checks that nothing is lost.
func TestReconnectsAfterBrokerOutage(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-outage", "t/#")
	broker.Stop()
	sp := newSpool(t)
	f, err := forward.New(sp, forward.Options{Broker: broker.URL(), ClientID: "gw-outage", DrainRate: 1000,
		BackoffMin: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, f)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 300 {
			if err := sp.Append("t/dev", []byte(strconv.Itoa(i))); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	testenv.Eventually(t, 5*time.Second, func() bool { return f.Stats().ConnectErrs >= 2 }, "no reconnection attempts")
	broker.Start(t)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.Stats().Connected }, "not reconnected")
	time.Sleep(300 * time.Millisecond)
	broker.Stop()
	testenv.Eventually(t, 10*time.Second, func() bool { return !f.Stats().Connected }, "outage not noticed")
	broker.Start(t)
	wg.Wait()
	testenv.Eventually(t, 30*time.Second, func() bool { return sp.Stats().Depth == 0 }, "spool not drained: %+v", sp.Stats())
	testenv.Eventually(t, 10*time.Second, func() bool { return len(payloads(rec.Messages())["t/dev"]) == 300 },
		"received %d distinct of 300", len(payloads(rec.Messages())["t/dev"]))
	if st := f.Stats(); st.Connects < 2 {
		t.Fatalf("connects = %d, want >= 2", st.Connects)
	}
}

func TestOptionsValidate(t *testing.T) {
	sp := newSpool(t)
	ok := forward.Options{Broker: "tcp://127.0.0.1:1883", ClientID: "gw"}
	for name, tc := range map[string]struct {
		mod  func(*forward.Options)
		want string
	}{
		"no broker":     {func(o *forward.Options) { o.Broker = "" }, "broker.url: required"},
		"bad scheme":    {func(o *forward.Options) { o.Broker = "http://x:1" }, "broker.url: scheme"},
		"no host":       {func(o *forward.Options) { o.Broker = "tcp://" }, "broker.url"},
		"no client id":  {func(o *forward.Options) { o.ClientID = "" }, "broker.client_id"},
		"inflight":      {func(o *forward.Options) { o.MaxInflight = -1 }, "forward.max_inflight"},
		"drain rate":    {func(o *forward.Options) { o.DrainRate = -3 }, "forward.drain_rate"},
		"backoff order": {func(o *forward.Options) { o.BackoffMin, o.BackoffMax = time.Minute, time.Second }, "forward.backoff"},
		"will topic":    {func(o *forward.Options) { o.Will = &forward.Message{} }, "forward.will.topic"},
	} {
		t.Run(name, func(t *testing.T) {
			o := ok
			tc.mod(&o)
			_, err := forward.New(sp, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := forward.New(sp, ok); err != nil {
		t.Fatalf("valid options: %v", err)
	}
}

func TestPublishOffline(t *testing.T) {
	sp := newSpool(t)
	f, err := forward.New(sp, forward.Options{Broker: "tcp://127.0.0.1:1", ClientID: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Publish(context.Background(), forward.Message{Topic: "t", Payload: []byte("x")}); err != forward.ErrNotConnected {
		t.Fatalf("publish offline: %v, want ErrNotConnected", err)
	}
}
