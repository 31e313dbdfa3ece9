package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/internal/services"
	"github.com/cd06/smartdeal/senml"
)

const probeDevice = "probe"

// message i of the run: which device it belongs to and the reading it carries.
type message struct {
	index  int
	device string
	seq    int // per-device sequence, gives a distinct timestamp
}

func (c config) message(i int) message {
	if i%c.probeEvery == 0 {
		return message{index: i, device: probeDevice, seq: i / c.probeEvery}
	}
	d := i % c.devices
	return message{index: i, device: fmt.Sprintf("dev-%03d", d), seq: i / c.devices}
}

// payload encodes one reading whose value is the message index, so probes can
// be recognised when they appear in InfluxDB.
func (c config) payload(m message, base time.Time) ([]byte, error) {
	t := base.Add(time.Duration(m.seq) * time.Millisecond)
	if c.format == "lp" {
		return fmt.Appendf(nil, "temperature,unit=Cel value=%d %d\n", m.index, t.UnixNano()), nil
	}
	return senml.EncodeReadings(c.site, m.device, []smartdeal.Reading{{
		Site: c.site, Device: m.device, Quantity: "temperature", Unit: "Cel", Time: t, Number: float64(m.index),
	}})
}

type report struct {
	Mode          string        `json:"mode"`
	Format        string        `json:"format"`
	Messages      int           `json:"messages"`
	Stored        int           `json:"stored"`
	Lost          int           `json:"lost"`
	Duration      time.Duration `json:"duration_ns"`
	PerSecond     float64       `json:"messages_per_second"`
	LatencyP50    time.Duration `json:"latency_p50_ns,omitempty"`
	LatencyP95    time.Duration `json:"latency_p95_ns,omitempty"`
	LatencyP99    time.Duration `json:"latency_p99_ns,omitempty"`
	LatencyMax    time.Duration `json:"latency_max_ns,omitempty"`
	IngestCPU     time.Duration `json:"ingest_cpu_ns,omitempty"`
	CPUPerMessage time.Duration `json:"ingest_cpu_per_message_ns,omitempty"`
	PeakRSSBytes  int64         `json:"ingest_peak_rss_bytes,omitempty"`
}

func (r report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "mode=%s format=%s messages=%d stored=%d lost=%d\n", r.Mode, r.Format, r.Messages, r.Stored, r.Lost)
	fmt.Fprintf(w, "duration=%s rate=%.0f msg/s\n", r.Duration.Round(time.Millisecond), r.PerSecond)
	if r.LatencyP50 > 0 {
		fmt.Fprintf(w, "latency p50=%s p95=%s p99=%s max=%s\n", r.LatencyP50.Round(time.Millisecond), r.LatencyP95.Round(time.Millisecond), r.LatencyP99.Round(time.Millisecond), r.LatencyMax.Round(time.Millisecond))
	}
	if r.IngestCPU > 0 {
		fmt.Fprintf(w, "ingest cpu=%.2fs (%.1f µs/msg) peak_rss=%.1f MiB\n", r.IngestCPU.Seconds(), float64(r.CPUPerMessage.Nanoseconds())/1e3, float64(r.PeakRSSBytes)/(1<<20))
	}
	return nil
}

func execute(ctx context.Context, cfg config, stderr io.Writer) (report, error) {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if cfg.mode == "broker" {
		return brokerOnly(ctx, cfg, log)
	}
	bucket := cfg.bucket
	if bucket == "" {
		// Nanoseconds: two runs within one second (the test's live then drain
		// run) must not count each other's points.
		db := fmt.Sprintf("loadgen_%d", time.Now().UnixNano())
		if err := services.CreateDatabase(ctx, cfg.influxURL, db); err != nil {
			return report{}, err
		}
		bucket = db + "/autogen"
		log.Info("fresh database", "bucket", bucket)
	}
	flux := &fluxClient{url: cfg.influxURL, token: cfg.token, org: cfg.org, bucket: bucket}

	var ing *supervised
	if len(cfg.ingestCmd) > 0 {
		ing = &supervised{args: cfg.ingestCmd, env: append(os.Environ(),
			"SMARTDEAL_INFLUX_BUCKET="+bucket, "SMARTDEAL_INFLUX_URL="+cfg.influxURL, "SMARTDEAL_MQTT_URL="+cfg.mqttURL)}
		if err := ing.start(); err != nil {
			return report{}, err
		}
		defer ing.stop()
	}
	pubs, err := connectPublishers(cfg)
	if err != nil {
		return report{}, err
	}
	defer func() {
		for _, p := range pubs {
			p.Disconnect(250)
		}
	}()

	// A warm-up reading proves the ingest is subscribed (its persistent session
	// exists on the broker) and writing, before the clock starts.
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	warm := message{index: -1, device: "warmup"}
	// It is published again every 2 s until it shows: an ingest that has not yet
	// subscribed does not get it (duplicates collapse: same series and time).
	lastWarm := time.Time{}
	warmTick := func(context.Context, *fluxClient) {
		if time.Since(lastWarm) > 2*time.Second {
			lastWarm = time.Now()
			if err := publishOne(pubs[0], cfg, warm, base); err != nil {
				log.Warn("warm-up publish", "err", err)
			}
		}
	}
	if _, err := waitCount(ctx, flux, 1, time.Minute, warmTick); err != nil {
		return report{}, fmt.Errorf("warm-up reading never reached InfluxDB (is an ingest running? see loadgen-ingest.log): %w", err)
	}
	log.Info("ingest is live; starting", "mode", cfg.mode, "n", cfg.n, "format", cfg.format)

	probes := newProbeTracker(cfg)
	var start time.Time
	var cpu0 time.Duration
	if cfg.mode == "drain" {
		ing.stop()
		if err := publishAll(ctx, pubs, cfg, base, nil); err != nil {
			return report{}, err
		}
		log.Info("backlog queued on the broker; restarting the ingest")
		start = time.Now()
		if err := ing.start(); err != nil {
			return report{}, err
		}
	} else {
		start = time.Now()
		if ing != nil {
			cpu0 = ing.cpu()
		}
		errc := make(chan error, 1)
		go func() { errc <- publishAll(ctx, pubs, cfg, base, probes) }()
		defer func() { <-errc }()
	}
	stored, err := waitCount(ctx, flux, cfg.n+1, cfg.timeout, probes.poll)
	done := time.Now()
	r := report{Mode: cfg.mode, Format: cfg.format, Messages: cfg.n, Stored: stored - 1, Lost: cfg.n - (stored - 1), Duration: done.Sub(start)}
	r.PerSecond = float64(r.Stored) / r.Duration.Seconds()
	if ing != nil {
		r.IngestCPU = ing.cpu() - cpu0
		r.CPUPerMessage = r.IngestCPU / time.Duration(max(r.Stored, 1))
		r.PeakRSSBytes = ing.peakRSS()
	}
	if cfg.mode == "live" {
		probes.fill(&r)
	}
	return r, err
}

func connectPublishers(cfg config) ([]mqtt.Client, error) {
	var pubs []mqtt.Client
	for i := range cfg.publishers {
		o := mqtt.NewClientOptions().AddBroker(cfg.mqttURL).
			SetClientID(fmt.Sprintf("loadgen-pub-%d-%d", os.Getpid(), i)).
			SetCleanSession(true).SetAutoReconnect(true).SetWriteTimeout(30 * time.Second)
		c := mqtt.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return nil, fmt.Errorf("connect publisher to %s: %v", cfg.mqttURL, tok.Error())
		}
		pubs = append(pubs, c)
	}
	return pubs, nil
}

func publishOne(c mqtt.Client, cfg config, m message, base time.Time) error {
	p, err := cfg.payload(m, base)
	if err != nil {
		return err
	}
	tok := c.Publish(cfg.topicPrefix+"/"+cfg.site+"/"+m.device+"/telemetry", 1, false, p)
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publish: %v", tok.Error())
	}
	return nil
}

// publishAll publishes the N messages over the publisher connections, keeping
// at most cfg.window unacknowledged publishes per connection.
func publishAll(ctx context.Context, pubs []mqtt.Client, cfg config, base time.Time, probes *probeTracker) error {
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for p, c := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pending := make(chan mqtt.Token, cfg.window)
			waited := make(chan struct{})
			go func() {
				defer close(waited)
				for tok := range pending {
					if !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
						err := fmt.Errorf("publish not acknowledged: %v", tok.Error())
						firstErr.CompareAndSwap(nil, &err)
					}
				}
			}()
			for i := p; i < cfg.n && ctx.Err() == nil; i += len(pubs) {
				m := cfg.message(i)
				payload, err := cfg.payload(m, base)
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					break
				}
				if probes != nil && m.device == probeDevice {
					probes.sent(m.index)
				}
				pending <- c.Publish(cfg.topicPrefix+"/"+cfg.site+"/"+m.device+"/telemetry", 1, false, payload)
			}
			close(pending)
			<-waited
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return ctx.Err()
}

// waitCount polls InfluxDB until it holds want points, or no new point arrived
// for stall. tick, when set, runs at every poll.
func waitCount(ctx context.Context, f *fluxClient, want int, stall time.Duration, tick func(context.Context, *fluxClient)) (int, error) {
	last, lastChange := -1, time.Now()
	for {
		if tick != nil {
			tick(ctx, f)
		}
		n, err := f.count(ctx)
		if err == nil && n != last {
			last, lastChange = n, time.Now()
		}
		if n >= want {
			if tick != nil {
				tick(ctx, f)
			}
			return n, nil
		}
		if time.Since(lastChange) > stall {
			return max(last, 0), fmt.Errorf("stalled at %d of %d points for %s (last error: %v)", last, want, stall, err)
		}
		select {
		case <-ctx.Done():
			return max(last, 0), ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probeTracker measures end-to-end latency on every k-th message: the time from
// its publish to the first poll that finds it in InfluxDB (100 ms resolution).
type probeTracker struct {
	mu        sync.Mutex
	published map[int]time.Time
	lat       []time.Duration
	seen      map[int]bool
}

func newProbeTracker(cfg config) *probeTracker {
	return &probeTracker{published: make(map[int]time.Time, cfg.n/cfg.probeEvery+1), seen: map[int]bool{}}
}

func (p *probeTracker) sentAt(i int) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.published[i]
	return t, ok
}

func (p *probeTracker) poll(ctx context.Context, f *fluxClient) {
	idx, err := f.probeValues(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	for _, i := range idx {
		if p.seen[i] {
			continue
		}
		if t, ok := p.sentAt(i); ok {
			p.seen[i] = true
			p.lat = append(p.lat, now.Sub(t))
		}
	}
}

func (p *probeTracker) fill(r *report) {
	if len(p.lat) == 0 {
		return
	}
	slices.Sort(p.lat)
	q := func(f float64) time.Duration { return p.lat[min(len(p.lat)-1, int(f*float64(len(p.lat))))] }
	r.LatencyP50, r.LatencyP95, r.LatencyP99, r.LatencyMax = q(0.50), q(0.95), q(0.99), p.lat[len(p.lat)-1]
}

// sent records a probe's publish time.
func (p *probeTracker) sent(i int) {
	p.mu.Lock()
	p.published[i] = time.Now()
	p.mu.Unlock()
}

type fluxClient struct {
	url, token, org, bucket string
}

func (f *fluxClient) query(ctx context.Context, q string) (string, error) {
	u := f.url + "/api/v2/query"
	if f.org != "" {
		u += "?org=" + url.QueryEscape(f.org)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(q))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	if f.token != "" {
		req.Header.Set("Authorization", "Token "+f.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("flux: %s: %s", resp.Status, b)
	}
	return string(b), nil
}
