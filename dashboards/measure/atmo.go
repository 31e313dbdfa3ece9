package measure

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/influxdata/influxql"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/influxschema"
)

// Atmo computes the ATMO index of a site for the Paris day containing day
// (package atmo) from the hourly means of the site's pollutant series (pm2_5,
// pm10, no2, o3, so2), read in one Read. When several devices of the site
// measure one pollutant, each hour takes the highest of their hourly means:
// the index describes the worst air measured on the site. now says whether
// the day is provisional and bounds the read.
func (c *Client) Atmo(ctx context.Context, site string, day, now time.Time) (*atmo.Index, error) {
	if !smartdeal.ValidID(site) {
		return nil, fmt.Errorf("site: %w", ErrBadParam)
	}
	xs, err := c.atmoSites(ctx, site, day, now)
	if err != nil {
		return nil, err
	}
	if x := xs[site]; x != nil {
		return x, nil
	}
	x := atmo.Compute(day, nil, now)
	return &x, nil
}

// MaxAtmoSeries bounds the pollutant series AtmoSites reads in its one Read.
const MaxAtmoSeries = 2000

// AtmoSites computes, as Atmo does, the ATMO index of every site that has
// pollutant series that day, in two requests whatever the number of sites
// (one listing, one Read): the dashboards' index of every site. Sites
// without any pollutant series are absent.
func (c *Client) AtmoSites(ctx context.Context, day, now time.Time) (map[string]*atmo.Index, error) {
	return c.atmoSites(ctx, "", day, now)
}

// atmoSites is AtmoSites of one site, or of every site ("").
func (c *Client) atmoSites(ctx context.Context, site string, day, now time.Time) (map[string]*atmo.Index, error) {
	what := site
	if what == "" {
		what = "every site"
	}
	start, end := atmo.DayOf(day)
	out := map[string]*atmo.Index{}
	if !start.Before(now) {
		return out, nil
	}
	stop := end
	if now.Before(stop) {
		stop = now.Truncate(time.Second).Add(time.Second)
	}
	lookback := now.Sub(start) + 24*time.Hour
	if lookback > c.cfg.MaxRange {
		return nil, fmt.Errorf("atmo of %s: day older than influx.max_range: %w", start.Format("2006-01-02"), ErrBadRange)
	}
	eng, err := c.rangeEngine(ctx)
	if err != nil {
		return nil, fmt.Errorf("atmo of %s: %w", what, err)
	}
	if eng == EngineInfluxQL {
		hourly, err := c.atmoInfluxQL(ctx, site, start, stop)
		if err != nil {
			return nil, fmt.Errorf("atmo of %s: %w", what, err)
		}
		return atmoIndices(day, hourly, now), nil
	}
	series, err := c.Series(ctx, Filter{Site: site, Lookback: lookback})
	if err != nil {
		return nil, fmt.Errorf("atmo of %s: %w", what, err)
	}
	var reads Reads
	for _, s := range series {
		if atmo.IsPollutant(s.Quantity) && len(reads.Ranges) < MaxAtmoSeries {
			reads.Ranges = append(reads.Ranges, RangeQuery{SeriesKey: SeriesKey{Site: s.Site, Device: s.Device, Quantity: s.Quantity},
				Start: start, Stop: stop, Agg: Mean, Every: time.Hour, MaxPoints: 30})
		}
	}
	if len(reads.Ranges) == 0 {
		return out, nil
	}
	res, err := c.Read(ctx, reads)
	if err != nil {
		return nil, fmt.Errorf("atmo of %s: %w", what, err)
	}
	if res.RangesErr != nil {
		return nil, fmt.Errorf("atmo of %s: %w", what, res.RangesErr)
	}
	hourly := atmoHourly{}
	for _, d := range res.Ranges {
		for _, pt := range d.Points {
			// A window is stamped with its (clipped) end: the hour is
			// the one just before.
			hourly.keep(d.Site, atmo.Pollutant(d.Quantity), pt.Time.Add(-time.Nanosecond).Truncate(time.Hour).Unix(), pt.Value)
		}
	}
	return atmoIndices(day, hourly, now), nil
}

// atmoHourly is site → pollutant → hour (Unix seconds) → the highest
// hourly mean of the site's devices.
type atmoHourly map[string]map[atmo.Pollutant]map[int64]float64

func (h atmoHourly) keep(site string, p atmo.Pollutant, hour int64, v float64) {
	if h[site] == nil {
		h[site] = map[atmo.Pollutant]map[int64]float64{}
	}
	hs := h[site]
	if hs[p] == nil {
		hs[p] = map[int64]float64{}
	}
	if old, ok := hs[p][hour]; !ok || v > old {
		hs[p][hour] = v
	}
}

// atmoInfluxQL reads the hourly means of every pollutant series (of site,
// or of every site) in one statement: the highest of a site's devices per
// hour (a subquery), so InfluxDB answers one series per site and pollutant
// whatever the number of devices.
func (c *Client) atmoInfluxQL(ctx context.Context, site string, start, stop time.Time) (atmoHourly, error) {
	var anyPollutant [][][2]string
	for _, p := range atmo.Pollutants {
		anyPollutant = append(anyPollutant, [][2]string{{influxschema.TagQuantity, string(p)}})
	}
	match := [][][][2]string{anyPollutant}
	if site != "" {
		match = append(match, [][][2]string{{{influxschema.TagSite, site}}})
	}
	hour := &influxql.Call{Name: "time", Args: []influxql.Expr{&influxql.DurationLiteral{Val: time.Hour}}}
	dims := influxql.Dimensions{{Expr: hour}}
	for _, t := range []string{influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity} {
		dims = append(dims, &influxql.Dimension{Expr: &influxql.VarRef{Val: t}})
	}
	inner, err := c.influxQLStatement("mean", match, start, stop, dims, influxql.NoFill)
	if err != nil {
		return nil, err
	}
	// Only integers and the statement the influxql printer wrote go in.
	stmt := fmt.Sprintf("SELECT max(mean) FROM (%s) WHERE time >= %d AND time < %d GROUP BY time(1h), %s, %s fill(none)",
		inner, start.UnixNano(), stop.UnixNano(), influxschema.TagSite, influxschema.TagQuantity)
	answers, err := c.runStatements(ctx, []string{stmt})
	if err != nil {
		return nil, err
	}
	if answers[0].err != nil {
		return nil, answers[0].err
	}
	out := atmoHourly{}
	err = eachRow(answers[0].series, func(sr *influxQLSeries, ns int64, v float64) {
		if !math.IsNaN(v) {
			out.keep(sr.Tags[influxschema.TagSite], atmo.Pollutant(sr.Tags[influxschema.TagQuantity]), time.Unix(0, ns).Truncate(time.Hour).Unix(), v)
		}
	})
	return out, err
}

// atmoIndices computes each site's index from its hourly means.
func atmoIndices(day time.Time, hourly atmoHourly, now time.Time) map[string]*atmo.Index {
	out := map[string]*atmo.Index{}
	for st, byPollutant := range hourly {
		samples := map[atmo.Pollutant][]atmo.Sample{}
		for p, hours := range byPollutant {
			for h, v := range hours {
				if !math.IsNaN(v) {
					samples[p] = append(samples[p], atmo.Sample{Time: time.Unix(h, 0), Value: v})
				}
			}
		}
		x := atmo.Compute(day, samples, now)
		out[st] = &x
	}
	return out
}
