// Package ingesttest holds helpers for the ingest service's end-to-end
// tests: a dead-letter collector, InfluxDB point counts and Prometheus metric
// reading. The MQTT client is internal/mqtttest's.
package ingesttest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// Base is the reading time of message 0; message i is at Base + i ms.
var Base = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

// SenML returns a one-record SenML pack: quantity "seq" with value i at Base+i ms.
func SenML(i int) []byte {
	return fmt.Appendf(nil, `[{"n":"seq","u":"count","v":%d,"t":%.3f}]`, i, float64(Base.Add(time.Duration(i)*time.Millisecond).UnixMilli())/1000)
}

// LineProtocol returns a one-line line-protocol payload: seq value=i at Base+i ms.
func LineProtocol(i int) []byte {
	return fmt.Appendf(nil, "seq,unit=count value=%d %d\n", i, Base.Add(time.Duration(i)*time.Millisecond).UnixNano())
}

// Stats are aggregates of the "value" field of quantity seq.
type Stats struct {
	Count, Distinct int
	Sum             float64
}

// SeqStats returns count, count of distinct values and sum of seq values in db.
func SeqStats(t testing.TB, in *testenv.Influx, db string) Stats {
	t.Helper()
	// Only the shard of Base: a field type differs between shards in tests of type conflicts.
	where := fmt.Sprintf(`"quantity"='seq' AND time >= '%s'`, Base.Add(-time.Hour).Format(time.RFC3339))
	q := fmt.Sprintf(`SELECT count("value"), sum("value") FROM "%s"."autogen"."telemetry" WHERE %s; `+
		`SELECT count(distinct("value")) FROM "%s"."autogen"."telemetry" WHERE %s`, db, where, db, where)
	body, err := in.InfluxQL(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("influxql json: %v: %s", err, body)
	}
	var s Stats
	num := func(v any) float64 { f, _ := v.(float64); return f }
	if len(res.Results) == 2 {
		if sr := res.Results[0].Series; len(sr) > 0 && len(sr[0].Values) > 0 {
			s.Count, s.Sum = int(num(sr[0].Values[0][1])), num(sr[0].Values[0][2])
		}
		if sr := res.Results[1].Series; len(sr) > 0 && len(sr[0].Values) > 0 {
			s.Distinct = int(num(sr[0].Values[0][1]))
		}
	}
	return s
}

// WantSeq says whether stats hold exactly the values 0..n-1, each once.
func WantSeq(s Stats, n int) bool {
	return s.Count == n && s.Distinct == n && math.Abs(s.Sum-float64(n*(n-1)/2)) < 0.5
}

// Metric sums the samples of a metric family in a registry whose labels
// include every label given as "name=value".
func Metric(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, want := range labels {
				k, v, _ := strings.Cut(want, "=")
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// Scrape fetches a /metrics page and sums the samples of name whose label set
// contains every given `k="v"` fragment. It returns -1 when the page cannot be read.
func Scrape(url, name string, labels ...string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	return ScrapeText(resp.Body, name, labels...)
}

// ScrapeText is Scrape over a Prometheus text exposition.
func ScrapeText(r io.Reader, name string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				continue lines
			}
		}
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// DeadLetters collects the dead letters published under prefix/deadletter/#.
type DeadLetters struct {
	mu   sync.Mutex
	msgs []DeadLetter
}

// DeadLetter is a received dead letter with its topic.
type DeadLetter struct {
	Topic         string
	Reason        string `json:"reason"`
	Error         string `json:"error"`
	Site          string `json:"site"`
	Device        string `json:"device"`
	PayloadBase64 string `json:"payload_base64"`
	Truncated     bool   `json:"payload_truncated"`
	OrigTopic     string `json:"topic"`
}

// CollectDeadLetters subscribes to smartdeal/v1/deadletter/#.
func CollectDeadLetters(t testing.TB, url string) *DeadLetters {
	t.Helper()
	c := mqtttest.Client(t, url, fmt.Sprintf("dl-watch-%d", time.Now().UnixNano()))
	d := &DeadLetters{}
	tok := c.Subscribe("smartdeal/v1/deadletter/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		var dl DeadLetter
		if err := json.Unmarshal(m.Payload(), &dl); err != nil {
			dl.Reason = "UNPARSEABLE: " + err.Error()
		}
		dl.Topic = m.Topic()
		d.mu.Lock()
		d.msgs = append(d.msgs, dl)
		d.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe dead letters: %v", tok.Error())
	}
	return d
}

// All returns the dead letters received so far.
func (d *DeadLetters) All() []DeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DeadLetter(nil), d.msgs...)
}
