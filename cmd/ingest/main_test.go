package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal/ingest/ingesttest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// binary builds cmd/ingest once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ingest-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "ingest")
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

// proc is the ingest binary running as a child process.
type proc struct {
	cmd     *exec.Cmd
	metrics string
	out     *bytes.Buffer
	done    chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func startProc(t *testing.T, env ...string) *proc {
	t.Helper()
	port := testenv.FreePort(t)
	cmd := exec.Command(binary(t))
	cmd.Env = append(os.Environ(), append(env, fmt.Sprintf("SMARTDEAL_HTTP_ADDR=127.0.0.1:%d", port))...)
	p := &proc{cmd: cmd, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), out: &bytes.Buffer{}, done: make(chan struct{})}
	w := &syncBuf{b: p.out}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			w.mu.Lock()
			t.Logf("ingest output:\n%s", p.out.String())
			w.mu.Unlock()
		}
	})
	testenv.Eventually(t, 15*time.Second, func() bool {
		return p.ready()
	}, "ingest not ready")
	return p
}

// ready reports whether /readyz says 200.
func (p *proc) ready() bool {
	resp, err := httpGet(strings.Replace(p.metrics, "/metrics", "/readyz", 1))
	return err == nil && resp == 200
}

func (p *proc) metric(name string, labels ...string) float64 {
	return ingesttest.Scrape(p.metrics, name, labels...)
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ingest did not exit after %v", sig)
	}
}

func env(broker string, in *testenv.Influx, db string) []string {
	return []string{
		"SMARTDEAL_MQTT_URL=" + broker,
		"SMARTDEAL_MQTT_CLIENT_ID=ingest-proc",
		"SMARTDEAL_INFLUX_URL=" + in.URL,
		"SMARTDEAL_INFLUX_BUCKET=" + db + "/autogen",
		"SMARTDEAL_INGEST_FLUSH_INTERVAL=100ms",
		"SMARTDEAL_LOG_LEVEL=warn",
	}
}

// TestSIGKILLRestart: the ingest is killed mid-stream and restarted ⇒
// nothing is lost.
func TestSIGKILLRestart(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	e := env(broker.URL(), in, db)
	p := startProc(t, e...)

	const n = 20000
	pub := mqtttest.Client(t, broker.URL(), "pub-kill")
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := 0; i < n; i += 500 {
			var ps [][]byte
			for j := i; j < i+500; j++ {
				ps = append(ps, ingesttest.LineProtocol(j))
			}
			mqtttest.Publish(t, pub, fmt.Sprintf("smartdeal/v1/nice/dev-%d/telemetry", i/500%8), ps...)
		}
	}()
	// Kill once some, not all, are stored: mid-stream.
	testenv.Eventually(t, 60*time.Second, func() bool { return ingesttest.SeqStats(t, in, db).Count >= 2000 }, "nothing stored before the kill")
	p.signal(t, syscall.SIGKILL)
	killedAt := ingesttest.SeqStats(t, in, db).Count
	<-published
	t.Logf("killed with %d of %d stored", killedAt, n)
	if killedAt >= n {
		t.Fatalf("everything was stored before the kill; the test proves nothing")
	}
	p2 := startProc(t, e...)
	var s ingesttest.Stats
	testenv.Eventually(t, 90*time.Second, func() bool {
		s = ingesttest.SeqStats(t, in, db)
		return ingesttest.WantSeq(s, n) || s.Count > n // count and sum can briefly disagree while InfluxDB writes
	}, "after restart: %+v, want %d", s, n)
	if !ingesttest.WantSeq(s, n) {
		t.Fatalf("stored %+v, want values 0..%d once each", s, n-1)
	}
	t.Logf("after restart: %v messages, %v redelivered", p2.metric("smartdeal_ingest_messages_total"), p2.metric("smartdeal_ingest_redelivered_total"))
}

// TestSIGTERMFlushes: SIGTERM with a batch held (flush interval an hour) ⇒
// the batch is written and acked before exit, exit status 0, and nothing is
// redelivered to the next process.
func TestSIGTERMFlushes(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	e := append(env(broker.URL(), in, db), "SMARTDEAL_INGEST_FLUSH_INTERVAL=1h", "SMARTDEAL_INGEST_BATCH_SIZE=100000")
	p := startProc(t, e...)
	pub := mqtttest.Client(t, broker.URL(), "pub-term")
	topic := "smartdeal/v1/nice/station/telemetry"
	const n = 300
	var ps [][]byte
	for i := range n {
		ps = append(ps, ingesttest.SenML(i))
	}
	mqtttest.Publish(t, pub, topic, ps...)
	testenv.Eventually(t, 20*time.Second, func() bool { return p.metric("smartdeal_ingest_unacked_messages") == n },
		"ingest does not hold the %d messages", n)
	if s := ingesttest.SeqStats(t, in, db); s.Count != 0 {
		t.Fatalf("%d points written before SIGTERM; the batch should be held", s.Count)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	if s := ingesttest.SeqStats(t, in, db); !ingesttest.WantSeq(s, n) {
		t.Fatalf("after SIGTERM stored %+v, want all %d", s, n)
	}
	// The next process must not get them again: the broker delivers
	// redeliveries first, so once a fresh message is through, any
	// redelivery would have been counted.
	p2 := startProc(t, append(e, "SMARTDEAL_INGEST_FLUSH_INTERVAL=50ms")...)
	mqtttest.Publish(t, pub, topic, ingesttest.SenML(n))
	testenv.Eventually(t, 20*time.Second, func() bool { return ingesttest.SeqStats(t, in, db).Count == n+1 }, "fresh message not stored")
	testenv.Eventually(t, 5*time.Second, func() bool { return p2.metric("smartdeal_ingest_messages_total") >= 1 }, "metrics")
	if got := p2.metric("smartdeal_ingest_messages_total"); got != 1 {
		t.Fatalf("restarted ingest handled %v messages, want only the fresh one (redelivered %v)",
			got, p2.metric("smartdeal_ingest_redelivered_total"))
	}
}

// TestConfigPrecedence runs the command in-process: file values under
// environment ones, and an invalid value named in the error.
func TestConfigPrecedence(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "ingest.yaml")
	// The file is wrong on purpose where the environment overrides it.
	if err := os.WriteFile(file, []byte(fmt.Sprintf(`
mqtt:
  url: tcp://127.0.0.1:1
  client_id: from-file
influx:
  url: %s
  bucket: %s/autogen
ingest:
  max_inflight: 0
  flush_interval: 50ms
http:
  addr: 127.0.0.1:0
log:
  level: warn
`, in.URL, db)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("invalid value names the field", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-config", file}, func(k string) string {
			return map[string]string{"SMARTDEAL_MQTT_URL": broker.URL()}[k]
		}, &out)
		if err == nil || !strings.Contains(err.Error(), "ingest.max_inflight") {
			t.Fatalf("err = %v, want one naming ingest.max_inflight", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		_ = os.WriteFile(bad, []byte("ingest:\n  batchsize: 10\n"), 0o600)
		err := run(context.Background(), []string{"-config", bad}, func(string) string { return "" }, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "ingest.batchsize") {
			t.Fatalf("err = %v, want one naming ingest.batchsize", err)
		}
	})
	t.Run("environment over file", func(t *testing.T) {
		envs := map[string]string{
			"SMARTDEAL_CONFIG":              file, // no -config flag: the variable gives the file
			"SMARTDEAL_MQTT_URL":            broker.URL(),
			"SMARTDEAL_INGEST_MAX_INFLIGHT": "1000",
		}
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, nil, func(k string) string { return envs[k] }, &syncBuf{b: &out}) }()
		pub := mqtttest.Client(t, broker.URL(), "pub-cfg")
		// The persistent session of client_id from-file (file value kept)
		// must exist before publishing: wait for the subscription.
		testenv.Eventually(t, 10*time.Second, func() bool {
			mqtttest.Publish(t, pub, "smartdeal/v1/nice/station/telemetry", ingesttest.SenML(0))
			return ingesttest.SeqStats(t, in, db).Count == 1
		}, "message not stored through the configured ingest")
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
	})
}

func httpGet(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
