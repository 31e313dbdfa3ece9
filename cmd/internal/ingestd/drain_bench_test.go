package ingestd_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/cmd/internal/ingestd"
	"github.com/cd06/smartdeal/ingest/ingesttest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDrain measures the catch-up after an outage: 100,000 one-reading
// messages from 100 devices are queued on Mosquitto while the ingest is
// away, then the clock runs from its restart until InfluxDB holds them all.
// CPU is this process's (the ingest's) user+system time during the drain.
//
//	go test ./cmd/internal/ingestd -run '^$' -bench Drain -benchtime 1x
func BenchmarkDrain(b *testing.B) {
	for _, format := range []string{"lineprotocol", "senml"} {
		b.Run(format, func(b *testing.B) {
			const n = 100_000
			broker := testenv.StartMosquitto(b, testenv.MosquittoOptions{})
			in := testenv.SharedInflux(b)
			for b.Loop() {
				db := in.NewDatabase(b)
				cfg := ingestd.DefaultConfig()
				cfg.MQTT.URL, cfg.MQTT.ClientID = broker.URL(), "ingest-bench-"+db
				cfg.Influx.URL, cfg.Influx.Bucket = in.URL, db+"/autogen"
				// First run creates the persistent session, then goes away.
				app, err := ingestd.New(cfg, nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- app.Run(ctx) }()
				testenv.Eventually(b, 10*time.Second, func() bool { return app.BrokerReady(ctx) == nil }, "not subscribed")
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				pub := mqtttest.Client(b, broker.URL(), "bench-pub-"+db)
				for dev := range 100 {
					ps := make([][]byte, 0, n/100)
					for i := dev; i < n; i += 100 {
						if format == "senml" {
							ps = append(ps, ingesttest.SenML(i))
						} else {
							ps = append(ps, ingesttest.LineProtocol(i))
						}
					}
					mqtttest.Publish(b, pub, fmt.Sprintf("smartdeal/v1/nice/dev-%03d/telemetry", dev), ps...)
				}

				reg := prometheus.NewRegistry()
				app, err = ingestd.New(cfg, nil, reg)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel = context.WithCancel(context.Background())
				cpu0, t0 := cpuTime(), time.Now()
				go func() { done <- app.Run(ctx) }()
				// Poll the ingest's own count of points InfluxDB acknowledged:
				// querying InfluxDB 50 times a second would slow it down.
				testenv.Eventually(b, 5*time.Minute, func() bool {
					return ingesttest.Metric(b, reg, "smartdeal_ingest_points_written_total") >= n
				}, "not all written")
				elapsed, cpu := time.Since(t0), cpuTime()-cpu0
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				if s := ingesttest.SeqStats(b, in, db); !ingesttest.WantSeq(s, n) {
					b.Fatalf("stored %+v", s)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
				batches := ingesttest.Metric(b, reg, "smartdeal_ingest_batch_points")
				b.ReportMetric(float64(n)/batches, "msgs/batch")
				mfs, _ := reg.Gather()
				for _, mf := range mfs {
					if mf.GetName() == "smartdeal_ingest_batch_duration_seconds" {
						h := mf.GetMetric()[0].GetHistogram()
						b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount())*1000, "ms/batch-write")
					}
				}
				b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/msg")
			}
		})
	}
}
