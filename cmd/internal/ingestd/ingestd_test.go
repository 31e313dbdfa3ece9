package ingestd_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cd06/smartdeal/cmd/internal/ingestd"
	"github.com/cd06/smartdeal/ingest/influxstore"
	"github.com/cd06/smartdeal/ingest/ingesttest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// running is an ingest App started by a test.
type running struct {
	app    *ingestd.App
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, brokerURL, influxURL, db, clientID string, mod func(*ingestd.Config)) *running {
	t.Helper()
	cfg := ingestd.DefaultConfig()
	cfg.MQTT.URL = brokerURL
	cfg.MQTT.ClientID = clientID
	cfg.Influx.URL = influxURL
	cfg.Influx.Bucket = db + "/autogen"
	cfg.Ingest.FlushInterval = 100 * time.Millisecond
	cfg.Ingest.RetryMax = time.Second
	if mod != nil {
		mod(&cfg)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", clientID)
	app, err := ingestd.New(cfg, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: app, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- app.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	testenv.Eventually(t, 10*time.Second, func() bool { return app.BrokerReady(ctx) == nil }, "ingest %s not subscribed", clientID)
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("ingest run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("ingest did not stop within 30s")
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func (r *running) metric(t *testing.T, name string, labels ...string) float64 {
	return ingesttest.Metric(t, r.reg, name, labels...)
}

// TestNMessagesStored: N messages over 20 devices, half SenML, half line
// protocol ⇒ exactly N readings, with the right values.
func TestNMessagesStored(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	r := start(t, broker.URL(), in.URL, db, "ingest-n", nil)

	const n = 4000
	pub := mqtttest.Client(t, broker.URL(), "pub-n")
	for dev := range 20 {
		var payloads [][]byte
		for i := dev; i < n; i += 20 {
			if dev%2 == 0 {
				payloads = append(payloads, ingesttest.SenML(i))
			} else {
				payloads = append(payloads, ingesttest.LineProtocol(i))
			}
		}
		mqtttest.Publish(t, pub, fmt.Sprintf("smartdeal/v1/nice/dev-%02d/telemetry", dev), payloads...)
	}
	var s ingesttest.Stats
	testenv.Eventually(t, 60*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, n) || s.Count > n // count and sum can briefly disagree while InfluxDB writes
	}, "stored %+v, want %d", s, n)
	if !ingesttest.WantSeq(s, n) {
		t.Fatalf("stored %+v, want values 0..%d once each", s, n-1)
	}
	// One value by series and time, through Flux, as the API will read it.
	at := ingesttest.Base.Add(1234 * time.Millisecond)
	rows, err := in.Flux(context.Background(), fmt.Sprintf(`from(bucket: "%s/autogen")
		|> range(start: %s, stop: %s)
		|> filter(fn: (r) => r._measurement == "telemetry" and r.device == "dev-14" and r.quantity == "seq" and r._field == "value")`,
		db, at.Format(time.RFC3339Nano), at.Add(time.Millisecond).Format(time.RFC3339Nano)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["_value"] != "1234" || rows[0]["site"] != "nice" || rows[0]["unit"] != "count" {
		t.Fatalf("flux rows %v, want dev-14 seq=1234 unit count", rows)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return r.app.Unacked() == 0 }, "unacked %d", r.app.Unacked())
	if got := r.metric(t, "smartdeal_ingest_messages_total", "result=written"); got != n {
		t.Errorf("messages_total{result=written} = %v, want %d", got, n)
	}
	if got := r.metric(t, "smartdeal_ingest_messages_total", "format=lineprotocol"); got != n/2 {
		t.Errorf("messages_total{format=lineprotocol} = %v, want %d", got, n/2)
	}
	if got := r.metric(t, "smartdeal_ingest_points_written_total"); got != n {
		t.Errorf("points_written_total = %v, want %d", got, n)
	}
}

// TestInfluxOutage: InfluxDB stopped for 30 s while devices keep
// publishing ⇒ no crash, nothing lost, retries counted, /readyz says why.
func TestInfluxOutage(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t)
	db := in.NewDatabase(t)
	r := start(t, broker.URL(), in.URL, db, "ingest-outage", nil)
	pub := mqtttest.Client(t, broker.URL(), "pub-outage")
	topic := "smartdeal/v1/nice/station/telemetry"

	next := 0
	publish := func(k int) {
		var ps [][]byte
		for range k {
			ps = append(ps, ingesttest.SenML(next))
			next++
		}
		mqtttest.Publish(t, pub, topic, ps...)
	}
	publish(500)
	testenv.Eventually(t, 30*time.Second, func() bool { return ingesttest.SeqStats(t, in, db).Count == 500 }, "first 500 not stored")

	in.Stop(t)
	outage := time.Now()
	// Devices keep publishing during the outage: 100 messages every 200 ms
	// for 30 s (15,000 messages, beyond the broker's 10,000 window: the rest
	// waits on the broker).
	for time.Since(outage) < 30*time.Second {
		publish(100)
		time.Sleep(200 * time.Millisecond) // the publishing rate, not a wait for a condition
	}
	if err := r.app.StoreReady(context.Background()); err == nil {
		t.Error("StoreReady = nil during the outage")
	}
	if got := r.metric(t, "smartdeal_ingest_unacked_messages"); got > 10000 {
		t.Errorf("unacked = %v during the outage, more than the broker's window", got)
	}
	in.Start(t)
	publish(500)
	total := next
	var s ingesttest.Stats
	// Poll until the stored values are exactly 0..total-1 (or too many): right
	// after its restart InfluxDB 1.8 can answer count() and sum() from
	// different states while it loads its WAL, so one matching count is not
	// yet the verdict.
	testenv.Eventually(t, 120*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, total) || s.Count > total
	}, "after the outage: stored %+v, want %d", s, total)
	if !ingesttest.WantSeq(s, total) {
		t.Fatalf("stored %+v, want values 0..%d once each", s, total-1)
	}
	// As an operator sees them: scraped from /metrics.
	srv := httptest.NewServer(promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	if got := ingesttest.Scrape(srv.URL, "smartdeal_ingest_write_retries_total"); got < 1 {
		t.Errorf("/metrics write_retries_total = %v, want > 0", got)
	}
	if got := ingesttest.Scrape(srv.URL, "smartdeal_ingest_write_errors_total", `class="retryable"`); got < 1 {
		t.Errorf("/metrics write_errors_total{class=retryable} = %v, want > 0", got)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return r.app.StoreReady(context.Background()) == nil }, "StoreReady after recovery")
	t.Logf("outage: %d messages, %v retries", total, r.metric(t, "smartdeal_ingest_write_retries_total"))
}

// TestTwoReplicas: two replicas in one shared-subscription group split the
// load, and nothing is stored twice.
func TestTwoReplicas(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	a := start(t, broker.URL(), in.URL, db, "ingest-a", nil)
	b := start(t, broker.URL(), in.URL, db, "ingest-b", nil)

	const n = 6000
	pub := mqtttest.Client(t, broker.URL(), "pub-2")
	var wg sync.WaitGroup
	for dev := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ps [][]byte
			for i := dev; i < n; i += 6 {
				ps = append(ps, ingesttest.LineProtocol(i))
			}
			mqtttest.Publish(t, pub, fmt.Sprintf("smartdeal/v1/nice/dev-%d/telemetry", dev), ps...)
		}()
	}
	wg.Wait()
	var s ingesttest.Stats
	testenv.Eventually(t, 60*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, n) || s.Count > n // count and sum can briefly disagree while InfluxDB writes
	}, "stored %+v, want %d", s, n)
	if !ingesttest.WantSeq(s, n) {
		t.Fatalf("stored %+v, want values 0..%d once each", s, n-1)
	}
	// A message is counted when it is acked, just after its write: the last
	// batch may be visible in InfluxDB a moment before it is counted.
	written := func() (float64, float64) {
		return a.metric(t, "smartdeal_ingest_messages_total", "result=written"), b.metric(t, "smartdeal_ingest_messages_total", "result=written")
	}
	testenv.Eventually(t, 10*time.Second, func() bool { wa, wb := written(); return wa+wb >= n }, "fewer than %d messages counted as written", n)
	wa, wb := written()
	t.Logf("replica a wrote %v messages, b %v", wa, wb)
	if wa == 0 || wb == 0 {
		t.Fatalf("load not split: a=%v b=%v", wa, wb)
	}
}

// TestDeadLetters: malformed, oversized, wrong-type, identity-claiming and
// hostile payloads are dead-lettered with their reason; the good messages
// around them are stored.
func TestDeadLetters(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	dls := ingesttest.CollectDeadLetters(t, broker.URL())
	r := start(t, broker.URL(), in.URL, db, "ingest-dl", func(c *ingestd.Config) { c.Ingest.MaxPayload = 4096 })
	pub := mqtttest.Client(t, broker.URL(), "pub-dl")
	topic := "smartdeal/v1/nice/station/telemetry"

	bad := []struct {
		name    string
		topic   string
		payload string
		reason  string
	}{
		{"broken JSON", topic, `[{"n":"temperature","v":21.5`, "malformed"},
		{"not a payload at all", topic, "\x00\x01\x02binary junk", "malformed"},
		{"empty", topic, "", "malformed"},
		{"oversized", topic, `[{"n":"x","vs":"` + strings.Repeat("a", 5000) + `"}]`, "too_large"},
		{"wrong type: v as string", topic, `[{"n":"temperature","v":"hot"}]`, "malformed"},
		{"SenML claims another device", topic, `[{"bn":"nice:other-station:","n":"temperature","v":21}]`, "identity_mismatch"},
		{"SenML claims another site", topic, `[{"bn":"paris:station:","n":"temperature","v":21}]`, "identity_mismatch"},
		{"line protocol claims another device", topic, "temperature,device=other value=21", "identity_mismatch"},
		{"number overflow", topic, `[{"n":"temperature","v":1e999}]`, "invalid_value"},
		{"time in 1999 (absolute: t ≥ 2^28)", topic, `[{"n":"temperature","v":21,"t":946684799}]`, "invalid_time"},
		{"time next year", topic, fmt.Sprintf(`[{"n":"temperature","v":21,"t":%d}]`, time.Now().AddDate(1, 0, 0).Unix()), "invalid_time"},
		{"bad quantity", topic, `[{"n":"Temp\u00e9rature","v":21}]`, "malformed|invalid_quantity"},
		{"line-protocol injection in a tag", topic, "temperature,unit=C\\,site=paris value=1", "malformed|invalid_value|identity_mismatch"},
		{"deep nesting", topic, strings.Repeat("[", 3000), "malformed"},
		{"invalid device in topic", "smartdeal/v1/nice/Bad Device/telemetry", `[{"n":"temperature","v":21}]`, "invalid_topic"},
	}
	good := 0
	for i, b := range bad {
		mqtttest.Publish(t, pub, topic, ingesttest.SenML(good))
		good++
		mqtttest.Publish(t, pub, b.topic, []byte(b.payload))
		if i%3 == 0 {
			mqtttest.Publish(t, pub, topic, ingesttest.LineProtocol(good))
			good++
		}
	}
	if !waitFor(30*time.Second, func() bool { return len(dls.All()) >= len(bad) }) {
		t.Errorf("dead letters: got %d of %d", len(dls.All()), len(bad))
	}
	var s ingesttest.Stats
	testenv.Eventually(t, 30*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return s.Count >= good
	}, "good messages stored %+v, want %d", s, good)
	if !ingesttest.WantSeq(s, good) {
		t.Fatalf("stored %+v, want 0..%d", s, good-1)
	}

	got := dls.All()
	if len(got) != len(bad) {
		for _, dl := range got {
			t.Logf("dead letter %s: %s", dl.Reason, dl.Error)
		}
		t.Fatalf("got %d dead letters, want %d", len(got), len(bad))
	}
	// Decoders run in parallel: match dead letters to cases by payload.
	byPayload := map[string]ingesttest.DeadLetter{}
	for _, dl := range got {
		raw, _ := base64.StdEncoding.DecodeString(dl.PayloadBase64)
		byPayload[string(raw)] = dl
	}
	for _, b := range bad {
		key := b.payload
		if len(key) > 4096 {
			key = key[:4096]
		}
		dl, ok := byPayload[key]
		if !ok {
			t.Errorf("%s: no dead letter carries its payload", b.name)
			continue
		}
		if !strings.Contains("|"+b.reason+"|", "|"+dl.Reason+"|") {
			t.Errorf("%s: reason %q (%s), want %s", b.name, dl.Reason, dl.Error, b.reason)
		}
		if dl.OrigTopic != b.topic || dl.Error == "" {
			t.Errorf("%s: dead letter %+v", b.name, dl)
		}
		raw, err := base64.StdEncoding.DecodeString(dl.PayloadBase64)
		if err != nil || (!dl.Truncated && string(raw) != b.payload) || (dl.Truncated && !strings.HasPrefix(b.payload, string(raw))) {
			t.Errorf("%s: payload not carried (truncated=%v, err %v)", b.name, dl.Truncated, err)
		}
		wantTopic := "smartdeal/v1/deadletter/nice/station"
		if b.reason == "invalid_topic" {
			wantTopic = "smartdeal/v1/deadletter/nice/_"
		}
		if dl.Topic != wantTopic {
			t.Errorf("%s: published on %s, want %s", b.name, dl.Topic, wantTopic)
		}
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return r.app.Unacked() == 0 }, "unacked %d", r.app.Unacked())
	if got := r.metric(t, "smartdeal_ingest_deadletters_total"); got != float64(len(bad)) {
		t.Errorf("deadletters_total = %v, want %d", got, len(bad))
	}
	if got := r.metric(t, "smartdeal_ingest_deadletters_total", "reason=too_large"); got != 1 {
		t.Errorf("deadletters_total{reason=too_large} = %v, want 1", got)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return r.app.Unacked() == 0 }, "unacked %d", r.app.Unacked())
}

// TestRejectedByInflux: a field-type conflict (HTTP 400) on one message of a
// batch ⇒ that message is dead-lettered (reason rejected), the rest of the
// batch is written.
func TestRejectedByInflux(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	// Someone wrote "value" as a string for this series through the raw API.
	// (30 days back: another shard than the test's seq readings, whose sums
	// InfluxQL could not compute over a field that is a string in their shard.)
	at := ingesttest.Base.AddDate(0, 0, -30)
	store, err := influxstore.New(influxstore.Config{URL: in.URL, Bucket: db + "/autogen", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Write(context.Background(), fmt.Appendf(nil,
		`telemetry,device=station,quantity=temperature,site=nice value="hot" %d`, at.UnixNano())); err != nil {
		t.Fatal(err)
	}
	dls := ingesttest.CollectDeadLetters(t, broker.URL())
	// One batch: flushed only on size (21 points) or after a minute.
	r := start(t, broker.URL(), in.URL, db, "ingest-400", func(c *ingestd.Config) {
		c.Ingest.BatchSize = 21
		c.Ingest.FlushInterval = time.Minute
	})
	pub := mqtttest.Client(t, broker.URL(), "pub-400")
	topic := "smartdeal/v1/nice/station/telemetry"
	for i := range 20 {
		if i == 13 {
			mqtttest.Publish(t, pub, topic, fmt.Appendf(nil, `[{"n":"temperature","u":"Cel","v":21.5,"t":%d}]`, at.Unix()+1))
		}
		mqtttest.Publish(t, pub, topic, ingesttest.SenML(i))
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return len(dls.All()) == 1 }, "dead letters %v", dls.All())
	dl := dls.All()[0]
	if dl.Reason != "rejected" || !strings.Contains(dl.Error, "400") {
		t.Fatalf("dead letter %+v, want reason rejected with the HTTP 400", dl)
	}
	var s ingesttest.Stats
	testenv.Eventually(t, 10*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, 20)
	}, "stored %+v, want the 20 other messages", s)
	testenv.Eventually(t, 5*time.Second, func() bool { return r.app.Unacked() == 0 }, "unacked %d", r.app.Unacked())
	if got := r.metric(t, "smartdeal_ingest_messages_total", "result=written"); got != 20 {
		t.Errorf("messages_total{result=written} = %v, want 20", got)
	}
	if got := r.metric(t, "smartdeal_ingest_deadletters_total", "reason=rejected"); got != 1 {
		t.Errorf("deadletters_total{reason=rejected} = %v, want 1", got)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return r.metric(t, "smartdeal_ingest_batch_points") == 1 },
		"batch_points samples = %v, want the one batch", r.metric(t, "smartdeal_ingest_batch_points"))
	if got := r.metric(t, "smartdeal_ingest_write_errors_total", "class=bad_data"); got < 1 {
		t.Errorf("write_errors_total{class=bad_data} = %v", got)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return r.app.Unacked() == 0 }, "unacked %d", r.app.Unacked())
}

// TestMissingDatabase: a configuration error (InfluxDB 404: the database
// does not exist) keeps the messages unacked, retries, and says so in
// readiness; once an operator creates the database everything is written.
func TestMissingDatabase(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := fmt.Sprintf("late_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { _, _ = in.InfluxQL(context.Background(), "DROP DATABASE "+db) })
	r := start(t, broker.URL(), in.URL, db, "ingest-404", nil)
	pub := mqtttest.Client(t, broker.URL(), "pub-404")
	var ps [][]byte
	for i := range 100 {
		ps = append(ps, ingesttest.SenML(i))
	}
	mqtttest.Publish(t, pub, "smartdeal/v1/nice/station/telemetry", ps...)
	testenv.Eventually(t, 20*time.Second, func() bool {
		return r.metric(t, "smartdeal_ingest_write_errors_total", "class=config") >= 2
	}, "no config-class write errors")
	err := r.app.StoreReady(context.Background())
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("StoreReady = %v, want the 404", err)
	}
	if got := r.app.Unacked(); got != 100 {
		t.Fatalf("unacked = %d while writes fail, want all 100 held", got)
	}
	if _, err := in.InfluxQL(context.Background(), "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	var s ingesttest.Stats
	testenv.Eventually(t, 30*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, 100)
	}, "after CREATE DATABASE: %+v", s)
	testenv.Eventually(t, 10*time.Second, func() bool { return r.app.StoreReady(context.Background()) == nil }, "still not ready")
}

// TestWindowFlush: the broker's in-flight window (here 20, Mosquitto's
// default) is far below the batch size and the flush interval is an hour:
// only the 80 %-of-window rule can flush, and it must, or the broker stops
// sending and everything stalls.
func TestWindowFlush(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{MaxInflight: 20})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	r := start(t, broker.URL(), in.URL, db, "ingest-window", func(c *ingestd.Config) {
		c.Ingest.MaxInflight = 20
		c.Ingest.BatchSize = 5000
		c.Ingest.FlushInterval = time.Hour
	})
	const n = 500
	pub := mqtttest.Client(t, broker.URL(), "pub-window")
	var ps [][]byte
	for i := range n {
		ps = append(ps, ingesttest.LineProtocol(i))
	}
	mqtttest.Publish(t, pub, "smartdeal/v1/nice/station/telemetry", ps...)
	var s ingesttest.Stats
	testenv.Eventually(t, 60*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, n)
	}, "stored %+v, want %d: the window rule did not flush", s, n)
	testenv.Eventually(t, 5*time.Second, func() bool { return r.metric(t, "smartdeal_ingest_batch_points") > 0 }, "no batch")
	batches := r.metric(t, "smartdeal_ingest_batch_points")
	if perBatch := n / batches; perBatch > 20 {
		t.Fatalf("%v messages per batch, more than the window allows", perBatch)
	}
	t.Logf("%d messages in %v batches", n, batches)
}
