package main

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// prefixed exposes a simulated gateway's own registry inside the all-in-one's,
// with a site label so the gateways' identical metric names do not collide.
type prefixed struct {
	site string
	reg  *prometheus.Registry
}

func (p prefixed) Describe(chan<- *prometheus.Desc) {} // unchecked collector

func (p prefixed) Collect(ch chan<- prometheus.Metric) {
	families, err := p.reg.Gather()
	if err != nil {
		return
	}
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "smartdeal_") {
			continue // process and Go runtime metrics come from the all-in-one's own collectors
		}
		for _, m := range mf.GetMetric() {
			if metric, ok := relabel(mf, m, p.site); ok {
				ch <- metric
			}
		}
	}
}

// relabel rebuilds one gathered sample as a const metric with a site label.
func relabel(mf *dto.MetricFamily, m *dto.Metric, site string) (prometheus.Metric, bool) {
	names := []string{"site"}
	values := []string{site}
	for _, lp := range m.GetLabel() {
		names = append(names, lp.GetName())
		values = append(values, lp.GetValue())
	}
	desc := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil)
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		return prometheus.MustNewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), values...), true
	case dto.MetricType_GAUGE:
		return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...), true
	case dto.MetricType_UNTYPED:
		return prometheus.MustNewConstMetric(desc, prometheus.UntypedValue, m.GetUntyped().GetValue(), values...), true
	default:
		// Histograms and summaries of the gateways stay on their own registry.
		return nil, false
	}
}
