package web

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	Votes       prometheus.Counter
	rateLimited *prometheus.CounterVec
	rateErrors  *prometheus.CounterVec
	LiveClients prometheus.Gauge
	LiveDropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_requests_total", Help: "HTTP requests by route, method and status."},
			[]string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "smartdeal_api_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
		Votes:       prometheus.NewCounter(prometheus.CounterOpts{Name: "smartdeal_api_votes_total", Help: "Votes added."}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_rate_limited_total", Help: "Requests refused by a rate limit."}, []string{"limit"}),
		rateErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_rate_limiter_errors_total",
			Help: "Rate-limit checks that failed (shared store unreachable); votes pass, sign-in and sign-up get 503."}, []string{"limit"}),
		LiveClients: prometheus.NewGauge(prometheus.GaugeOpts{Name: "smartdeal_api_live_clients", Help: "Open live-feed streams."}),
		LiveDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "smartdeal_api_live_dropped_total", Help: "Live events dropped for slow clients."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.Votes, m.rateLimited, m.rateErrors, m.LiveClients, m.LiveDropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) middleware(c *fiber.Ctx) error {
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

// Limited counts a request refused by the limit name (the live feed's caps).
func (m *Metrics) Limited(name string) { m.rateLimited.WithLabelValues(name).Inc() }
