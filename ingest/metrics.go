package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pipeline's Prometheus series (namespace smartdeal_ingest).
type metrics struct {
	messages     *prometheus.CounterVec // format, result
	points       prometheus.Counter
	deadLetters  *prometheus.CounterVec // reason
	redelivered  prometheus.Counter
	intakeBlocks prometheus.Counter
	batchSeconds prometheus.Histogram
	batchPoints  prometheus.Histogram
	writeErrors  *prometheus.CounterVec // class
	writeRetries prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, queueDepth, unacked func() float64) (*metrics, error) {
	const ns, sub = "smartdeal", "ingest"
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "messages_total",
			Help: "Telemetry messages finished (acked), by payload format and result (written, deadletter)."}, []string{"format", "result"}),
		points: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "points_written_total",
			Help: "Points acknowledged by InfluxDB."}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "deadletters_total",
			Help: "Messages published to the dead-letter topic, by reason."}, []string{"reason"}),
		redelivered: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "redelivered_total",
			Help: "Messages received with the MQTT DUP flag (redelivered after a reconnect)."}),
		intakeBlocks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "intake_blocked_total",
			Help: "Times the MQTT handler found the queue full (broker window larger than ingest.max_inflight?)."}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_duration_seconds",
			Help:    "Time from a batch's handing to the writer until it is written and acked, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		batchPoints: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_points",
			Help:    "Points per written batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		writeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "write_errors_total",
			Help: "Failed InfluxDB writes, by class (bad_data, retryable, config)."}, []string{"class"}),
		writeRetries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "write_retries_total",
			Help: "Write attempts repeated after a retryable or configuration error."}),
	}
	cs := []prometheus.Collector{m.messages, m.points, m.deadLetters, m.redelivered, m.intakeBlocks,
		m.batchSeconds, m.batchPoints, m.writeErrors, m.writeRetries,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_depth",
			Help: "Messages received and waiting to be decoded."}, queueDepth),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "unacked_messages",
			Help: "Messages received and not yet acknowledged (at most the broker's in-flight window)."}, unacked),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Pre-create the label values people alert on, so they read 0, not absent.
	for _, c := range []string{"bad_data", "retryable", "config"} {
		m.writeErrors.WithLabelValues(c)
	}
	return m, nil
}
