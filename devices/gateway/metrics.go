package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	bridge "github.com/cd06/smartdeal/firmware-bridge"
)

type metrics struct {
	readings   *prometheus.CounterVec
	packs      *prometheus.CounterVec
	sensorErrs *prometheus.CounterVec
	invalid    *prometheus.CounterVec
	commands   *prometheus.CounterVec
	spoolErrs  prometheus.Counter
}

func newMetrics(g *Gateway) *metrics {
	const ns = "smartdeal_gateway_"
	m := &metrics{
		readings:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "readings_total", Help: "Readings spooled, by device."}, []string{"device"}),
		packs:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "packs_total", Help: "SenML packs spooled (one per read), by device."}, []string{"device"}),
		sensorErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "sensor_errors_total", Help: "Failed sensor opens and reads, by device."}, []string{"device"}),
		invalid:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "invalid_measurements_total", Help: "Measurements discarded (non-finite value, bad quantity or unit), by device."}, []string{"device"}),
		commands:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "commands_total", Help: "Commands handled, by command and outcome."}, []string{"cmd", "ok"}),
		spoolErrs:  prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "spool_append_errors_total", Help: "Spool appends that failed (the message is lost)."}),
	}
	for _, r := range g.ordered {
		m.readings.WithLabelValues(r.cfg.Device)
		m.packs.WithLabelValues(r.cfg.Device)
		m.sensorErrs.WithLabelValues(r.cfg.Device)
	}
	gauge := func(name, help string, f func(Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: ns + name, Help: help}, func() float64 { return f(g.Stats()) })
	}
	counter := func(name, help string, f func(Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: ns + name, Help: help}, func() float64 { return f(g.Stats()) })
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	// The collectors package would link database/sql (its DB stats collector)
	// into the lean gateway: use the equivalent constructors of prometheus.
	//lint:ignore SA1019 same collectors, without database/sql in the binary
	goColl := prometheus.NewGoCollector()
	//lint:ignore SA1019 same collectors, without database/sql in the binary
	procColl := prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{})
	g.reg.MustRegister(
		goColl, procColl,
		m.readings, m.packs, m.sensorErrs, m.invalid, m.commands, m.spoolErrs,
		gauge("spool_depth", "Spool entries not yet acknowledged by the broker.", func(s Stats) float64 { return float64(s.Spool.Pending) }),
		gauge("spool_stored", "Spool entries stored, including acknowledged ones awaiting removal.", func(s Stats) float64 { return float64(s.Spool.Depth) }),
		gauge("spool_bytes", "Bytes of entries in the spool.", func(s Stats) float64 { return float64(s.Spool.Bytes) }),
		counter("spool_dropped_total", "Oldest spool entries dropped because the spool was full.", func(s Stats) float64 { return float64(s.Spool.Dropped) }),
		gauge("mqtt_connected", "1 while connected to the broker.", func(s Stats) float64 { return b2f(s.Forward.Connected) }),
		counter("mqtt_connects_total", "Successful broker connections.", func(s Stats) float64 { return float64(s.Forward.Connects) }),
		counter("mqtt_connect_errors_total", "Failed broker connection attempts.", func(s Stats) float64 { return float64(s.Forward.ConnectErrs) }),
		counter("published_acked_total", "Spool entries acknowledged by the broker (PUBACK).", func(s Stats) float64 { return float64(s.Forward.Acked) }),
		counter("publish_failures_total", "Publishes that failed or timed out (sent again later).", func(s Stats) float64 { return float64(s.Forward.Failed) }),
		gauge("publish_inflight", "Publishes waiting for their PUBACK.", func(s Stats) float64 { return float64(s.Forward.Inflight) }),
		gauge("backlog_draining", "1 while the backlog of an outage is being drained.", func(s Stats) float64 { return b2f(s.Forward.BacklogLeft) }),
		gauge("held_packs", "Packs held in memory until the system clock is set.", func(s Stats) float64 { return float64(s.Held) }),
		counter("held_dropped_total", "Held packs dropped because too many were held.", func(s Stats) float64 { return float64(s.HeldDropped) }),
		gauge("clock_ok", "1 once the system clock is later than the build time.", func(s Stats) float64 { return b2f(s.ClockOK) }),
	)
	if b := g.bridge; b != nil {
		mav := func(name, help string, f func(bridge.Stats) uint64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: ns + "mavlink_" + name, Help: help},
				func() float64 { return float64(f(b.Stats())) })
		}
		g.reg.MustRegister(
			mav("frames_total", "MAVLink frames read.", func(s bridge.Stats) uint64 { return s.Frames }),
			mav("frames_lost_total", "MAVLink frames missing from sequence gaps.", func(s bridge.Stats) uint64 { return s.FramesLost }),
			mav("frames_refused_total", "MAVLink frames dropped: corrupted, bad checksum, undecodable, refused by signing.", func(s bridge.Stats) uint64 {
				return s.ParseErrors + s.ChecksumErrors + s.DecodeErrors + s.SigningRefused
			}),
			mav("published_total", "Drone readings packs and events appended to the spool.", func(s bridge.Stats) uint64 { return s.Published }),
			mav("publish_dropped_total", "Drone messages lost: bridge queue full or spool append failed.", func(s bridge.Stats) uint64 { return s.PublishDropped + s.PublishErrors }),
			counter("mavlink_clock_dropped_total", "Drone messages dropped while the system clock was not set.", func(s Stats) float64 { return float64(s.DronesDropped) }),
		)
	}
	return m
}
