package measure

import "github.com/cd06/smartdeal/dashboards/series"

// The reads' types are package series' (a leaf the web layer imports
// without this adapter); these are their names here, so that the adapter
// reads as before and its callers in cmd/ need no second import.
type (
	SeriesKey  = series.SeriesKey
	Latest     = series.Latest
	Filter     = series.Filter
	Aggregate  = series.Aggregate
	RangeQuery = series.RangeQuery
	Point      = series.Point
	SeriesData = series.SeriesData
	TrackPoint = series.TrackPoint
	Track      = series.Track
	Reads      = series.Reads
	TrackQuery = series.TrackQuery
	Results    = series.Results
)

// Aggregates, limits and errors: series'.
const (
	Mean             = series.Mean
	Min              = series.Min
	Max              = series.Max
	Last             = series.Last
	DefaultMaxPoints = series.DefaultMaxPoints
	MaxPointsLimit   = series.MaxPointsLimit
)

// Errors: series' (the API maps them to 400 and 503).
var (
	ErrBadRange    = series.ErrBadRange
	ErrBadParam    = series.ErrBadParam
	ErrUnavailable = series.ErrUnavailable
)

// ParseAggregate is series.ParseAggregate.
func ParseAggregate(s string) (Aggregate, error) { return series.ParseAggregate(s) }
