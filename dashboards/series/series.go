// Package series holds the result types of the measurement reads: what a
// page, a JSON route or a composed view asks of the time-series store and
// what it gets back (SeriesKey, Latest, Filter, RangeQuery, SeriesData,
// Point, Track, TrackPoint, Reads, Results) and the errors it maps. The
// InfluxDB adapter (dashboards/measure) implements the reads and returns
// these types; dashboards/app, api and pages use them without importing the
// adapter (TestImportRules, rule 3). It imports only the root package.
package series

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cd06/smartdeal"
)

// Errors returned for bad parameters; the API maps them to 400.
var (
	// ErrBadRange means start/stop are missing, reversed or span too long.
	ErrBadRange = errors.New("bad time range")
	// ErrBadParam means an identifier, aggregate or point count is invalid.
	ErrBadParam = errors.New("bad parameter")
	// ErrUnavailable wraps failures of the store itself (the API answers 503).
	ErrUnavailable = errors.New("measurements unavailable")
)

// SeriesKey names one series.
type SeriesKey struct {
	Site     string `json:"site"`
	Device   string `json:"device"`
	Quantity string `json:"quantity"`
}

// Validate checks the identifiers.
func (k SeriesKey) Validate() error {
	if !smartdeal.ValidID(k.Site) {
		return fmt.Errorf("site: %w", ErrBadParam)
	}
	if !smartdeal.ValidID(k.Device) {
		return fmt.Errorf("device: %w", ErrBadParam)
	}
	if !smartdeal.ValidQuantity(k.Quantity) {
		return fmt.Errorf("quantity: %w", ErrBadParam)
	}
	return nil
}

// Latest is a series with its last value.
type Latest struct {
	smartdeal.Series
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// Filter narrows a series listing; zero fields do not filter.
type Filter struct {
	Site, Device, Quantity string
	// Lookback is how far back to look for series (default 30 days).
	Lookback time.Duration
}

// Aggregate is the function applied within each window.
type Aggregate string

// Aggregates.
const (
	Mean Aggregate = "mean"
	Min  Aggregate = "min"
	Max  Aggregate = "max"
	Last Aggregate = "last"
)

// ParseAggregate accepts mean, min, max, last ("" is mean).
func ParseAggregate(s string) (Aggregate, error) {
	switch Aggregate(s) {
	case "":
		return Mean, nil
	case Mean, Min, Max, Last:
		return Aggregate(s), nil
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return "", fmt.Errorf("aggregate %q (want mean, min, max or last): %w", s, ErrBadParam)
}

// DefaultMaxPoints caps a series when the caller gives no limit.
const DefaultMaxPoints = 1000

// MaxPointsLimit is the largest point count a caller may ask for.
const MaxPointsLimit = 10000

// RangeQuery asks for one series over [Start, Stop).
type RangeQuery struct {
	SeriesKey
	Start, Stop time.Time
	Agg         Aggregate
	// Every is the aggregation window (optional): it is widened when the
	// range would yield more than MaxPoints windows. Whole seconds, ≥ 1s.
	Every time.Duration
	// MaxPoints caps the result (optional) defaults to DefaultMaxPoints.
	MaxPoints int
}

// Window returns the aggregation window for q: at least q.Every, at least one
// second, and wide enough that the range yields at most MaxPoints windows
// (aligned windows can straddle both ends, hence MaxPoints-1).
func (q *RangeQuery) Window() time.Duration {
	span := q.Stop.Sub(q.Start)
	n := q.MaxPoints
	if n < 2 {
		n = 2
	}
	every := time.Duration(math.Ceil(float64(span)/float64(n-1)/float64(time.Second))) * time.Second
	if q.Every > every {
		every = q.Every.Truncate(time.Second)
	}
	if every < time.Second {
		every = time.Second
	}
	return every
}

// Point is one aggregated value, stamped with the end of its window.
type Point struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
}

// SeriesData is one series over a range.
type SeriesData struct {
	SeriesKey
	Start  time.Time `json:"start"`
	Stop   time.Time `json:"stop"`
	Agg    Aggregate `json:"aggregate"`
	Every  string    `json:"every"`
	Points []Point   `json:"points"`
}
