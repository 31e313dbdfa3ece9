package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	votes       prometheus.Counter
	rateLimited *prometheus.CounterVec
	rateErrors  *prometheus.CounterVec
	liveClients prometheus.Gauge
	liveDropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_requests_total", Help: "HTTP requests by route, method and status."},
			[]string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "smartdeal_api_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
		votes:       prometheus.NewCounter(prometheus.CounterOpts{Name: "smartdeal_api_votes_total", Help: "Votes added."}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_rate_limited_total", Help: "Requests refused by a rate limit."}, []string{"limit"}),
		rateErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_rate_limiter_errors_total",
			Help: "Rate-limit checks that failed (shared store unreachable); votes pass, sign-in and sign-up get 503."}, []string{"limit"}),
		liveClients: prometheus.NewGauge(prometheus.GaugeOpts{Name: "smartdeal_api_live_clients", Help: "Open live-feed streams."}),
		liveDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "smartdeal_api_live_dropped_total", Help: "Live events dropped for slow clients."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.votes, m.rateLimited, m.rateErrors, m.liveClients, m.liveDropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	route := c.Route().Path
	if err != nil {
		// Let the error handler write the response so the status is final.
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	m.requests.WithLabelValues(route, c.Method(), strconv.Itoa(c.Response().StatusCode())).Inc()
	m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return nil
}
