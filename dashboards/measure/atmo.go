package measure

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
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
	// site → pollutant → hour → the highest hourly mean of its devices.
	hourly := map[string]map[atmo.Pollutant]map[int64]float64{}
	for _, d := range res.Ranges {
		p := atmo.Pollutant(d.Quantity)
		if hourly[d.Site] == nil {
			hourly[d.Site] = map[atmo.Pollutant]map[int64]float64{}
		}
		hs := hourly[d.Site]
		if hs[p] == nil {
			hs[p] = map[int64]float64{}
		}
		for _, pt := range d.Points {
			// A window is stamped with its (clipped) end: the hour is
			// the one just before.
			h := pt.Time.Add(-time.Nanosecond).Truncate(time.Hour).Unix()
			if v, ok := hs[p][h]; !ok || pt.Value > v {
				hs[p][h] = pt.Value
			}
		}
	}
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
	return out, nil
}
