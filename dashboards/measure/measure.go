// Package measure reads the platform's measurements back from InfluxDB with
// Flux, through influxdb-client-go/v2's QueryAPI: the series that exist, the
// latest value of every series of a site, one series over a time range with
// an aggregation window and a cap on the number of points, and a drone's track
// during a mission. On InfluxDB 1.x a range is aggregated with InfluxQL
// instead (influxql.go): 1.8's Flux engine has no window-aggregate pushdown.
//
// InfluxDB 1.8 does not support QueryWithParams, so every query is built here
// from identifiers validated with smartdeal.ValidID / ValidQuantity, times the
// caller parsed into time.Time, durations and an aggregate chosen from a closed
// list; string literals are escaped anyway (fluxString). No user text reaches a
// query otherwise.
//
// The schema read is package influxschema's (the ingest writes with it):
// measurement "telemetry"; tags site, device, quantity, unit, mission (only
// when set); fields value (float), text (string), flag (bool), sum (float).
// Queries name its parts through influxschema's constants only.
package measure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/query"
	"github.com/influxdata/influxdb-client-go/v2/domain"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/influxschema"
)

// Config says where the measurements are.
type Config struct {
	// URL of InfluxDB, e.g. http://127.0.0.1:8086. Required.
	URL string
	// Token: "user:password" for 1.8 with auth, empty with auth off. (optional)
	Token string
	// Org is empty for 1.8. (optional)
	Org string
	// Bucket is "database/retention" on 1.8. Required.
	Bucket string
	// Timeout per query (optional) defaults to 10s.
	Timeout time.Duration
	// MaxRange is the longest range one query may cover (optional) defaults to 400 days.
	MaxRange time.Duration
	// CacheTTL keeps Range results this long and shares concurrent identical
	// queries (optional); 0 disables the cache. Callers that want hits align
	// their ranges (the API's proposal page ends on the current minute).
	CacheTTL time.Duration
	// CacheEntries bounds the cache (optional) defaults to 2000.
	CacheEntries int
	// Engine aggregates Range queries (optional): "auto" (default) uses
	// InfluxQL on InfluxDB 1.x and Flux elsewhere; "influxql" or "flux"
	// force one.
	Engine string
}

// Validate checks the config and fills defaults.
func (c *Config) Validate() error {
	if c.URL == "" {
		return errors.New("influx.url: required")
	}
	if c.Bucket == "" {
		return errors.New("influx.bucket: required")
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxRange <= 0 {
		c.MaxRange = 400 * 24 * time.Hour
	}
	if c.CacheTTL < 0 {
		return errors.New("influx.cache_ttl: must not be negative")
	}
	if c.CacheEntries <= 0 {
		c.CacheEntries = 2000
	}
	switch c.Engine {
	case "":
		c.Engine = EngineAuto
	case EngineAuto, EngineInfluxQL, EngineFlux:
	default:
		return errors.New("influx.engine: want auto, influxql or flux")
	}
	if _, err := url.Parse(c.URL); err != nil {
		return fmt.Errorf("influx.url: %w", err)
	}
	return nil
}

// Client runs the platform's Flux queries.
type Client struct {
	cfg    Config
	client influxdb2.Client
	query  api.QueryAPI
	log    *slog.Logger
	cache  *rangeCache // nil without CacheTTL
	// InfluxQL: plain HTTP to /query, with the bucket split into
	// database and retention policy.
	http   *http.Client
	base   string
	db, rp string
	engine engine
}

// New returns a Client; it does not connect until the first query.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	opts := influxdb2.DefaultOptions().SetHTTPRequestTimeout(uint(cfg.Timeout / time.Second))
	cl := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	c := &Client{cfg: cfg, client: cl, query: cl.QueryAPI(cfg.Org), log: log,
		http: &http.Client{Timeout: cfg.Timeout}, base: strings.TrimSuffix(cfg.URL, "/")}
	c.db, c.rp, _ = strings.Cut(cfg.Bucket, "/")
	// The query API builds its URL on first use and reads it without its
	// lock: a data race when the first Flux queries run at once (as a
	// Read's do). Build it now, with a query that never leaves: its context
	// is already canceled.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = c.query.QueryRaw(canceled, "", nil)
	if cfg.CacheTTL > 0 {
		c.cache = newRangeCache(cfg.CacheTTL, cfg.CacheEntries)
	}
	return c, nil
}

// Close releases the HTTP client.
func (c *Client) Close() { c.client.Close() }

// Ping checks InfluxDB answers (readiness).
func (c *Client) Ping(ctx context.Context) error {
	ok, err := c.client.Ping(ctx)
	if err != nil {
		return fmt.Errorf("influx ping: %w", err)
	}
	if !ok {
		return errors.New("influx ping: not ready")
	}
	return nil
}

// fluxString quotes s as a Flux string literal.
func fluxString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (c *Client) from(start, stop string) string {
	return "from(bucket: " + fluxString(c.cfg.Bucket) + ")\n  |> range(start: " + start + ", stop: " + stop + ")\n" +
		"  |> filter(fn: (r) => r._measurement == " + fluxString(influxschema.Measurement) + " and r._field == " + fluxString(influxschema.FieldValue)
}

// fluxColumns writes a Flux array of column names: ["site", "device"].
func fluxColumns(cols ...string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = fluxString(c)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// seriesTags are the tags that identify a series, unit included: what the
// latest-value queries group by.
var seriesTags = []string{influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity, influxschema.TagUnit}

// Series lists the series seen within the lookback, each with its last
// value: per site (Filter.Site) that is "the latest value of every series of
// a site".
func (c *Client) Series(ctx context.Context, f Filter) ([]Latest, error) {
	if f.Site != "" && !smartdeal.ValidID(f.Site) {
		return nil, fmt.Errorf("site: %w", ErrBadParam)
	}
	if f.Device != "" && !smartdeal.ValidID(f.Device) {
		return nil, fmt.Errorf("device: %w", ErrBadParam)
	}
	if f.Quantity != "" && !smartdeal.ValidQuantity(f.Quantity) {
		return nil, fmt.Errorf("quantity: %w", ErrBadParam)
	}
	if f.Lookback <= 0 {
		f.Lookback = 30 * 24 * time.Hour
	}
	if f.Lookback > c.cfg.MaxRange {
		return nil, fmt.Errorf("lookback over %s: %w", c.cfg.MaxRange, ErrBadRange)
	}
	eng, err := c.rangeEngine(ctx)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	var out []Latest
	if eng == EngineInfluxQL {
		out, err = c.seriesInfluxQL(ctx, f, time.Now())
	} else {
		out, err = c.seriesFlux(ctx, f)
	}
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Site != b.Site {
			return a.Site < b.Site
		}
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		return a.Quantity < b.Quantity
	})
	return out, nil
}

// seriesFlux lists the series with their last value using Flux.
func (c *Client) seriesFlux(ctx context.Context, f Filter) ([]Latest, error) {
	var b strings.Builder
	b.WriteString(c.from(fmt.Sprintf("-%ds", int64(f.Lookback/time.Second)), "now()"))
	for _, kv := range [][2]string{{influxschema.TagSite, f.Site}, {influxschema.TagDevice, f.Device}, {influxschema.TagQuantity, f.Quantity}} {
		if kv[1] != "" {
			b.WriteString(" and r." + kv[0] + " == " + fluxString(kv[1]))
		}
	}
	b.WriteString(")\n  |> last()\n  |> group(columns: " + fluxColumns(seriesTags...) + ")\n" +
		"  |> sort(columns: [\"_time\"])\n  |> last()\n  |> group()\n" +
		"  |> keep(columns: " + fluxColumns(append([]string{"_time", "_value"}, seriesTags...)...) + ")")
	out := []Latest{}
	err := c.each(ctx, b.String(), func(r *query.FluxRecord) bool {
		v, ok := toFloat(r.Value())
		if !ok {
			return true
		}
		out = append(out, Latest{
			Series: smartdeal.Series{Site: str(r.ValueByKey(influxschema.TagSite)), Device: str(r.ValueByKey(influxschema.TagDevice)),
				Quantity: str(r.ValueByKey(influxschema.TagQuantity)), Unit: str(r.ValueByKey(influxschema.TagUnit))},
			Time: r.Time().UTC(), Value: v,
		})
		return true
	})
	return out, err
}

func (c *Client) checkRange(start, stop time.Time) error {
	if start.IsZero() || stop.IsZero() || !stop.After(start) {
		return fmt.Errorf("start must be before stop: %w", ErrBadRange)
	}
	if stop.Sub(start) > c.cfg.MaxRange {
		return fmt.Errorf("range over %s: %w", c.cfg.MaxRange, ErrBadRange)
	}
	if start.Before(smartdeal.Epoch2000) {
		return fmt.Errorf("start before 2000: %w", ErrBadRange)
	}
	return nil
}

// Range returns one series over a range, aggregated per window and capped at
// MaxPoints points: a Read of one range.
func (c *Client) Range(ctx context.Context, q RangeQuery) (*SeriesData, error) {
	res, err := c.Read(ctx, Reads{Ranges: []RangeQuery{q}})
	if err != nil {
		return nil, err
	}
	if res.RangesErr != nil {
		return nil, res.RangesErr
	}
	return res.Ranges[0], nil
}

// RawPointLimit is the most raw points Range reads to aggregate in Go. Past
// it Range abandons the raw read and lets InfluxDB aggregate (aggregateWindow),
// so a long range at a high rate costs one slow query rather than an
// unbounded transfer. Memory does not depend on it: raw points are folded
// into at most MaxPoints+1 windows as they arrive.
const RawPointLimit = 200_000

// rawPointLimit is RawPointLimit; tests lower it.
var rawPointLimit = RawPointLimit

var errTooManyPoints = errors.New("too many raw points")

// rawDialect asks for CSV with a header row and no annotations.
var rawDialect = func() *domain.Dialect {
	header, delim := true, ","
	return &domain.Dialect{Header: &header, Delimiter: &delim, Annotations: &[]domain.DialectAnnotations{}}
}()

type window struct {
	n                   int
	sum, min, max, last float64
	lastT               int64
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Track returns the positions a drone reported with the mission tag between
// start and stop, and the flight summary: duration, distance flown
// (great-circle), maximum altitude (relative altitude when reported) and
// battery used (first minus last battery_remaining of the mission's battery
// series within the window, whatever the times of the fixes). Each point
// carries the battery level last read at or before it.
func (c *Client) Track(ctx context.Context, site, device, mission string, start, stop time.Time) (*Track, error) {
	res, err := c.Read(ctx, Reads{Tracks: []TrackQuery{{Site: site, Device: device, Mission: mission, Start: start, Stop: stop}}})
	if err != nil {
		return nil, err
	}
	if res.TracksErr != nil {
		return nil, res.TracksErr
	}
	return res.Tracks[0], nil
}

// each runs a Flux query and calls fn for every record, within the timeout,
// until fn returns false.
func (c *Client) each(ctx context.Context, q string, fn func(*query.FluxRecord) bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	res, err := c.query.Query(ctx, q)
	if err != nil {
		c.log.Warn("flux query failed", "err", err)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer res.Close()
	for res.Next() {
		if !fn(res.Record()) {
			return nil
		}
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

func optFloat(v any) *float64 {
	if f, ok := toFloat(v); ok {
		return &f
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
