package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/influxdata/influxdb-client-go/v2/api/query"
	"github.com/influxdata/influxql"
	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/influxschema"
)

// trackQuantities are the quantities a track is made of.
var trackQuantities = []string{"latitude", "longitude", "altitude", "relative_altitude", "battery_remaining"}

// rangeGroup is the queries of one Reads over the same range, aggregate
// and window: one statement (InfluxQL) or one raw read (Flux).
type rangeGroup struct {
	start, stop time.Time
	agg         Aggregate
	every       time.Duration
	keys        []SeriesKey          // distinct
	ids         map[SeriesKey]string // the cache key of each
}

// trackID names the series of one track.
type trackID struct{ site, device, mission string }

// readPlan is a validated Reads.
type readPlan struct {
	groups   []*rangeGroup
	rangeIDs []string // Reads.Ranges[i]'s cache key
	latest   []SeriesKey
	lookback time.Duration
	tracks   []trackID
	from, to time.Time     // the tracks' windows together
	every    time.Duration // TrackQuery.Every of every track; 0 for every fix
}

// plan validates r as Range, Series and Track validate theirs, and groups
// the ranges.
func (c *Client) plan(r Reads) (*readPlan, error) {
	p := &readPlan{rangeIDs: make([]string, len(r.Ranges))}
	type groupKey struct {
		start, stop int64
		agg         Aggregate
		every       time.Duration
	}
	byKey := map[groupKey]*rangeGroup{}
	for i, q := range r.Ranges {
		if err := q.SeriesKey.Validate(); err != nil {
			return nil, err
		}
		if err := c.checkRange(q.Start, q.Stop); err != nil {
			return nil, err
		}
		agg, err := ParseAggregate(string(q.Agg))
		if err != nil {
			return nil, err
		}
		if q.MaxPoints == 0 {
			q.MaxPoints = DefaultMaxPoints
		}
		if q.MaxPoints < 2 || q.MaxPoints > MaxPointsLimit {
			return nil, fmt.Errorf("max points must be in [2, %d]: %w", MaxPointsLimit, ErrBadParam)
		}
		if q.Every < 0 {
			return nil, fmt.Errorf("every must be positive: %w", ErrBadParam)
		}
		every := q.Window()
		gk := groupKey{q.Start.UnixNano(), q.Stop.UnixNano(), agg, every}
		g := byKey[gk]
		if g == nil {
			g = &rangeGroup{start: q.Start.UTC(), stop: q.Stop.UTC(), agg: agg, every: every, ids: map[SeriesKey]string{}}
			byKey[gk] = g
			p.groups = append(p.groups, g)
		}
		id, ok := g.ids[q.SeriesKey]
		if !ok {
			// The cache key is the query as InfluxDB runs it: the range in
			// UTC, the aggregate and the window. Every spelling of the same
			// query shares one entry: times with another offset or
			// precision, "5m" or "300s", and every point cap that gives the
			// same window (points=999 and 1000 over a week), which a client
			// varying ?points would otherwise use to miss the cache on every
			// request. Each caller's copy is then trimmed to its own cap.
			id = fmt.Sprintf("%s\n%d\n%s", agg, int64(every/time.Second), c.fluxRangeFilter(g.start, g.stop, []SeriesKey{q.SeriesKey}))
			g.ids[q.SeriesKey] = id
			g.keys = append(g.keys, q.SeriesKey)
		}
		p.rangeIDs[i] = id
	}
	if len(r.Latest) > 0 {
		p.lookback = r.Lookback
		if p.lookback <= 0 {
			p.lookback = 30 * 24 * time.Hour
		}
		if p.lookback > c.cfg.MaxRange {
			return nil, fmt.Errorf("lookback over %s: %w", c.cfg.MaxRange, ErrBadRange)
		}
		for _, k := range r.Latest {
			if err := k.Validate(); err != nil {
				return nil, err
			}
			if !slices.Contains(p.latest, k) {
				p.latest = append(p.latest, k)
			}
		}
	}
	for _, t := range r.Tracks {
		if !smartdeal.ValidID(t.Site) || !smartdeal.ValidID(t.Device) || !smartdeal.ValidID(t.Mission) {
			return nil, fmt.Errorf("site, device or mission: %w", ErrBadParam)
		}
		if err := c.checkRange(t.Start, t.Stop); err != nil {
			return nil, err
		}
		if t.Every < 0 || (t.Every > 0 && (t.Every < time.Second || t.Every%time.Second != 0)) {
			return nil, fmt.Errorf("track every must be a whole number of seconds: %w", ErrBadParam)
		}
		// One statement reads every track: one window for all of them.
		if len(p.tracks) > 0 && t.Every != p.every {
			return nil, fmt.Errorf("the tracks of one read must share one every: %w", ErrBadParam)
		}
		p.every = t.Every
		if id := (trackID{t.Site, t.Device, t.Mission}); !slices.Contains(p.tracks, id) {
			p.tracks = append(p.tracks, id)
		}
		if p.from.IsZero() || t.Start.Before(p.from) {
			p.from = t.Start.UTC()
		}
		if t.Stop.After(p.to) {
			p.to = t.Stop.UTC()
		}
	}
	return p, nil
}

// fetched is what one Read got from InfluxDB (or its cache).
type fetched struct {
	ranges    map[string]*SeriesData // by cache key, each capped at MaxPointsLimit
	rangesErr error
	latest    map[SeriesKey]*Latest
	latestErr error
	tracks    map[trackID][]TrackPoint // in time order
	batteries map[trackID][]Point      // battery_remaining of each track, in time order
	tracksErr error
}

// Read answers r with a bounded number of InfluxDB requests (see Reads).
// Every query is validated before anything is asked: a bad one fails the
// call with ErrBadParam or ErrBadRange. InfluxDB's own failures
// (ErrUnavailable) are the Results' per kind.
func (c *Client) Read(ctx context.Context, r Reads) (*Results, error) {
	p, err := c.plan(r)
	if err != nil {
		return nil, err
	}
	res := &Results{Ranges: make([]*SeriesData, len(r.Ranges)), Latest: make([]*Latest, len(r.Latest)), Tracks: make([]*Track, len(r.Tracks))}
	if len(r.Ranges)+len(r.Latest)+len(r.Tracks) == 0 {
		return res, nil
	}
	eng, err := c.rangeEngine(ctx)
	if err != nil { // each kind asked for fails
		if len(r.Ranges) > 0 {
			res.RangesErr = fmt.Errorf("range: %w", err)
		}
		if len(r.Latest) > 0 {
			res.LatestErr = fmt.Errorf("latest: %w", err)
		}
		if len(r.Tracks) > 0 {
			res.TracksErr = fmt.Errorf("track: %w", err)
		}
		return res, nil
	}
	f := &fetched{ranges: map[string]*SeriesData{}, latest: map[SeriesKey]*Latest{}, tracks: map[trackID][]TrackPoint{},
		batteries: map[trackID][]Point{}}
	// The cache: entries found are used, keys another request is fetching
	// are waited for once this one has fetched its own, the rest are
	// fetched here (and completed for those waiting on them).
	toFetch := p.groups
	var waits map[string]*call
	var mine []string
	if c.cache != nil && len(p.groups) > 0 {
		var ids []string
		for _, g := range p.groups {
			for _, k := range g.keys {
				ids = append(ids, g.ids[k])
			}
		}
		var hits map[string]*SeriesData
		hits, waits, mine = c.cache.claim(ids)
		for id, d := range hits {
			f.ranges[id] = d
		}
		toFetch = nil
		for _, g := range p.groups {
			left := &rangeGroup{start: g.start, stop: g.stop, agg: g.agg, every: g.every, ids: g.ids}
			for _, k := range g.keys {
				if slices.Contains(mine, g.ids[k]) {
					left.keys = append(left.keys, k)
				}
			}
			if len(left.keys) > 0 {
				toFetch = append(toFetch, left)
			}
		}
	}
	if eng == EngineInfluxQL {
		c.readInfluxQL(ctx, p, toFetch, f)
	} else {
		c.readFlux(ctx, p, toFetch, f)
	}
	if c.cache != nil {
		c.cache.complete(mine, f.ranges, f.rangesErr)
		for id, cl := range waits {
			<-cl.done
			if cl.err != nil && f.rangesErr == nil {
				f.rangesErr = cl.err
			}
			f.ranges[id] = cl.data
		}
	}
	if f.rangesErr != nil {
		res.RangesErr = fmt.Errorf("range: %w", f.rangesErr)
	} else {
		for i, q := range r.Ranges {
			d := *f.ranges[p.rangeIDs[i]] // shared (cached, or asked twice): trim a copy
			if q.MaxPoints == 0 {
				q.MaxPoints = DefaultMaxPoints
			}
			d.Start, d.Stop = q.Start.UTC(), q.Stop.UTC()
			if len(d.Points) > q.MaxPoints {
				d.Points = d.Points[len(d.Points)-q.MaxPoints:]
			}
			res.Ranges[i] = &d
		}
	}
	if f.latestErr != nil {
		res.LatestErr = fmt.Errorf("latest: %w", f.latestErr)
	} else {
		for i, k := range r.Latest {
			if l := f.latest[k]; l != nil {
				v := *l
				res.Latest[i] = &v
			}
		}
	}
	if f.tracksErr != nil {
		res.TracksErr = fmt.Errorf("track: %w", f.tracksErr)
	} else {
		for i, t := range r.Tracks {
			id := trackID{t.Site, t.Device, t.Mission}
			res.Tracks[i] = trackOf(t, f.tracks[id], f.batteries[id])
		}
	}
	return res, nil
}

// trackOf is t's track: the fixes of its series within its window, each
// with the battery level last read at or before it (the bridge sends
// positions and battery in different messages, at different times), and
// the summary over its battery series (bats, in time order).
func trackOf(t TrackQuery, pts []TrackPoint, bats []Point) *Track {
	tr := &Track{Site: t.Site, Device: t.Device, Mission: t.Mission, Points: []TrackPoint{}}
	in := func(at time.Time) bool { return !at.Before(t.Start) && at.Before(t.Stop) }
	var battery []Point
	for _, b := range bats {
		if in(b.Time) {
			battery = append(battery, b)
		}
	}
	next := 0
	var level *float64
	for _, p := range pts {
		if !in(p.Time) {
			continue
		}
		for next < len(battery) && !battery[next].Time.After(p.Time) {
			v := battery[next].Value
			level = &v
			next++
		}
		p.Battery = level
		tr.Points = append(tr.Points, p)
	}
	tr.Summarise(battery)
	return tr
}

// newSeriesData is an empty answer for key in g, capped at MaxPointsLimit
// once filled.
func (g *rangeGroup) newSeriesData(k SeriesKey) *SeriesData {
	return &SeriesData{SeriesKey: k, Start: g.start, Stop: g.stop, Agg: g.agg, Every: g.every.String(), Points: []Point{}}
}

// finish sorts and caps the points of a fetched series.
func finish(d *SeriesData) {
	sort.Slice(d.Points, func(i, j int) bool { return d.Points[i].Time.Before(d.Points[j].Time) })
	if len(d.Points) > MaxPointsLimit {
		d.Points = d.Points[len(d.Points)-MaxPointsLimit:]
	}
}

// --- InfluxQL: one request, one statement per kind ---

// readInfluxQL asks for everything in one request to /query: one statement
// per range series, one for the latest readings, one for the tracks.
func (c *Client) readInfluxQL(ctx context.Context, p *readPlan, groups []*rangeGroup, f *fetched) {
	var stmts []string
	var build error
	add := func(s string, err error) int {
		if err != nil {
			build = err
		}
		stmts = append(stmts, s)
		return len(stmts) - 1
	}
	seriesDims := func(tags ...string) influxql.Dimensions {
		var d influxql.Dimensions
		for _, t := range tags {
			d = append(d, &influxql.Dimension{Expr: &influxql.VarRef{Val: t}})
		}
		return d
	}
	// One statement per series: InfluxDB 1.8 runs them faster than one
	// statement over all of them (WHERE (…) OR (…) GROUP BY the tags: 12.8
	// ms against 7.8 for three week-long series at a minute), and the
	// request stays one.
	rangeAt := make([][]int, len(groups))
	for i, g := range groups {
		for _, k := range g.keys {
			rangeAt[i] = append(rangeAt[i], add(c.influxQLRange(g, k)))
		}
	}
	latestAt, tracksAt := -1, -1
	now := time.Now()
	if len(p.latest) > 0 {
		// The stop bound keeps the statement's time range closed; a minute
		// ahead tolerates clocks a little off, as Flux's now() does not.
		latestAt = add(c.influxQLStatement("last", [][][][2]string{keyTags(p.latest)}, now.Add(-p.lookback), now.Add(time.Minute),
			seriesDims(influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity, influxschema.TagUnit), influxql.NoFill))
	}
	if len(p.tracks) > 0 {
		var ids, qs [][][2]string
		for _, t := range p.tracks {
			ids = append(ids, [][2]string{{influxschema.TagSite, t.site}, {influxschema.TagDevice, t.device}, {influxschema.TagMission, t.mission}})
		}
		for _, q := range trackQuantities {
			qs = append(qs, [][2]string{{influxschema.TagQuantity, q}})
		}
		dims := seriesDims(influxschema.TagSite, influxschema.TagDevice, influxschema.TagMission, influxschema.TagQuantity)
		if p.every == 0 {
			tracksAt = add(c.influxQLStatement("", [][][][2]string{ids, qs}, p.from, p.to, dims, influxql.NullFill))
		} else {
			// The first value of each window (stamped with the window's
			// start), then each series' first and last values (stamped with
			// their own times, as selectors without a time window are).
			window := append(influxql.Dimensions{{Expr: &influxql.Call{Name: "time", Args: []influxql.Expr{&influxql.DurationLiteral{Val: p.every}}}}}, dims...)
			tracksAt = add(c.influxQLStatement("first", [][][][2]string{ids, qs}, p.from, p.to, window, influxql.NoFill))
			add(c.influxQLStatement("first", [][][][2]string{ids, qs}, p.from, p.to, dims, influxql.NoFill))
			add(c.influxQLStatement("last", [][][][2]string{ids, qs}, p.from, p.to, dims, influxql.NoFill))
		}
	}
	if len(stmts) == 0 {
		return
	}
	var answers []influxQLAnswer
	err := build
	if err == nil {
		answers, err = c.runStatements(ctx, stmts)
	}
	if err != nil {
		if len(groups) > 0 {
			f.rangesErr = err
		}
		if latestAt >= 0 {
			f.latestErr = err
		}
		if tracksAt >= 0 {
			f.tracksErr = err
		}
		return
	}
	for i, g := range groups {
		stop := g.stop.UnixNano()
		for j, k := range g.keys {
			a := answers[rangeAt[i][j]]
			if a.err != nil {
				f.rangesErr = a.err
				continue
			}
			d := g.newSeriesData(k)
			f.rangesErr = errors.Join(f.rangesErr, eachRow(a.series, func(_ *influxQLSeries, ns int64, v float64) {
				// InfluxQL stamps a window with its start, Range with its
				// (clipped) end.
				end := time.Unix(0, ns).Add(g.every).UnixNano()
				d.Points = append(d.Points, Point{Time: time.Unix(0, min(end, stop)).UTC(), Value: v})
			}))
			finish(d)
			f.ranges[g.ids[k]] = d
		}
	}
	if latestAt >= 0 {
		if a := answers[latestAt]; a.err != nil {
			f.latestErr = a.err
		} else {
			f.latestErr = eachRow(a.series, func(sr *influxQLSeries, ns int64, v float64) {
				l := &Latest{Series: smartdeal.Series{Site: sr.Tags[influxschema.TagSite], Device: sr.Tags[influxschema.TagDevice], Quantity: sr.Tags[influxschema.TagQuantity],
					Unit: sr.Tags[influxschema.TagUnit]}, Time: time.Unix(0, ns).UTC(), Value: v}
				f.keepNewest(l)
			})
		}
	}
	if tracksAt >= 0 {
		if a := answers[tracksAt]; a.err != nil {
			f.tracksErr = a.err
		} else if p.every == 0 {
			f.tracks, f.batteries, f.tracksErr = pivotTracks(a.series)
		} else if first, last := answers[tracksAt+1], answers[tracksAt+2]; first.err != nil || last.err != nil {
			f.tracksErr = errors.Join(first.err, last.err)
		} else {
			var edges *fetched
			edges, f.tracksErr = pivotFetched(slices.Concat(first.series, last.series))
			if f.tracksErr == nil {
				var windows *fetched
				windows, f.tracksErr = pivotFetched(a.series)
				if f.tracksErr == nil {
					f.keepEdges(windows, edges)
				}
			}
		}
	}
}

// pivotFetched is pivotTracks's answer as a fetched.
func pivotFetched(series []influxQLSeries) (*fetched, error) {
	tracks, bats, err := pivotTracks(series)
	return &fetched{tracks: tracks, batteries: bats}, err
}

// keepEdges sets f's tracks and batteries to the downsampled ones of
// windows with, for each track, its true first and last values (edges,
// in time order): what windows has at or before the first or at or after
// the last is dropped (a window is stamped with its start, which may be
// before the track's first fix).
func (f *fetched) keepEdges(windows, edges *fetched) {
	for id, e := range edges.tracks {
		f.tracks[id] = withEdges(windows.tracks[id], e, func(p TrackPoint) time.Time { return p.Time })
	}
	for id, e := range edges.batteries {
		f.batteries[id] = withEdges(windows.batteries[id], e, func(p Point) time.Time { return p.Time })
	}
}

// withEdges is edges' first element, the elements of inner strictly
// between edges' first and last times, then edges' last (once when they
// are the same instant). Both are in time order; edges is not empty.
func withEdges[T any](inner, edges []T, at func(T) time.Time) []T {
	first, last := edges[0], edges[len(edges)-1]
	out := make([]T, 0, len(inner)+2)
	out = append(out, first)
	for _, p := range inner {
		if at(p).After(at(first)) && at(p).Before(at(last)) {
			out = append(out, p)
		}
	}
	if at(last).After(at(first)) {
		out = append(out, last)
	}
	return out
}

// keepNewest keeps l as its series' latest reading if it is the newest yet.
func (f *fetched) keepNewest(l *Latest) {
	k := SeriesKey{Site: l.Site, Device: l.Device, Quantity: l.Quantity}
	if old := f.latest[k]; old == nil || l.Time.After(old.Time) {
		f.latest[k] = l
	}
}

// pivotTracks turns the rows of the tracks statement (one series per
// track and quantity) into fixes: one per instant that has a latitude and a
// longitude, as Flux's pivot on _time does.
func pivotTracks(series []influxQLSeries) (tracks map[trackID][]TrackPoint, batteries map[trackID][]Point, err error) {
	tracks, batteries = map[trackID][]TrackPoint{}, map[trackID][]Point{}
	fixes := map[trackID]map[int64]*trackRow{}
	seen := map[trackID]map[int64]bool{} // battery instants, once each
	err = eachRow(series, func(sr *influxQLSeries, ns int64, v float64) {
		id := trackID{sr.Tags[influxschema.TagSite], sr.Tags[influxschema.TagDevice], sr.Tags[influxschema.TagMission]}
		if sr.Tags[influxschema.TagQuantity] == "battery_remaining" {
			if seen[id] == nil {
				seen[id] = map[int64]bool{}
			}
			if !seen[id][ns] {
				seen[id][ns] = true
				batteries[id] = append(batteries[id], Point{Time: time.Unix(0, ns).UTC(), Value: v})
			}
			return
		}
		byTime := fixes[id]
		if byTime == nil {
			byTime = map[int64]*trackRow{}
			fixes[id] = byTime
		}
		row := byTime[ns]
		if row == nil {
			row = &trackRow{}
			byTime[ns] = row
		}
		row.set(sr.Tags[influxschema.TagQuantity], v)
	})
	if err != nil {
		return nil, nil, err
	}
	for id, byTime := range fixes {
		pts := make([]TrackPoint, 0, len(byTime))
		for ns, row := range byTime {
			if p, ok := row.point(time.Unix(0, ns).UTC()); ok {
				pts = append(pts, p)
			}
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
		tracks[id] = pts
	}
	for _, bats := range batteries {
		sort.Slice(bats, func(i, j int) bool { return bats[i].Time.Before(bats[j].Time) })
	}
	return tracks, batteries, nil
}

// trackRow is one instant of a track, quantity by quantity.
type trackRow struct {
	lat, lon, alt, relAlt *float64
}

func (r *trackRow) set(quantity string, v float64) {
	switch quantity {
	case "latitude":
		r.lat = &v
	case "longitude":
		r.lon = &v
	case "altitude":
		r.alt = &v
	case "relative_altitude":
		r.relAlt = &v
	}
}

func (r *trackRow) point(t time.Time) (TrackPoint, bool) {
	if r.lat == nil || r.lon == nil {
		return TrackPoint{}, false
	}
	return TrackPoint{Time: t, Lat: *r.lat, Lon: *r.lon, Altitude: r.alt, RelativeAltitude: r.relAlt}, true
}

// keyTags are the tag conditions of series keys, one set per key.
func keyTags(keys []SeriesKey) [][][2]string {
	out := make([][][2]string, len(keys))
	for i, k := range keys {
		out[i] = [][2]string{{influxschema.TagSite, k.Site}, {influxschema.TagDevice, k.Device}, {influxschema.TagQuantity, k.Quantity}}
	}
	return out
}

// influxQLStatement builds `SELECT fn(value) FROM db.rp.measurement WHERE
// (any of match[0]) AND (any of match[1]) … AND time >= start AND time <
// stop GROUP BY dims` as an AST printed by the influxql package, so values
// (already validated) and times can only ever be literals; fn "" selects the
// raw values. Each element of match is a list of tag sets, one of which a
// row must match entirely. Text InfluxQL cannot hold in a string literal
// (NUL, control characters, invalid UTF-8: the influxql printer writes a
// CR raw, which its own scanner refuses) is refused, whatever the caller
// checked before.
func (c *Client) influxQLStatement(fn string, match [][][][2]string, start, stop time.Time, dims influxql.Dimensions, fill influxql.FillOption) (string, error) {
	literals := []string{c.db, c.rp, influxschema.Measurement}
	for _, sets := range match {
		for _, set := range sets {
			for _, kv := range set {
				literals = append(literals, kv[1])
			}
		}
	}
	for _, s := range literals {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsRune(s, utf8.RuneError) {
			return "", fmt.Errorf("%q cannot be an InfluxQL literal: %w", trunc(s), ErrBadParam)
		}
	}
	join := func(op influxql.Token, a, b influxql.Expr) influxql.Expr {
		if a == nil {
			return b
		}
		return &influxql.BinaryExpr{Op: op, LHS: a, RHS: b}
	}
	var cond influxql.Expr
	for _, sets := range match {
		var anyOf influxql.Expr
		for _, set := range sets {
			var all influxql.Expr
			for _, kv := range set {
				all = join(influxql.AND, all, &influxql.BinaryExpr{Op: influxql.EQ, LHS: &influxql.VarRef{Val: kv[0], Type: influxql.Tag},
					RHS: &influxql.StringLiteral{Val: kv[1]}})
			}
			anyOf = join(influxql.OR, anyOf, &influxql.ParenExpr{Expr: all})
		}
		cond = join(influxql.AND, cond, &influxql.ParenExpr{Expr: anyOf})
	}
	cond = join(influxql.AND, cond, &influxql.BinaryExpr{Op: influxql.GTE, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.IntegerLiteral{Val: start.UnixNano()}})
	cond = join(influxql.AND, cond, &influxql.BinaryExpr{Op: influxql.LT, LHS: &influxql.VarRef{Val: "time"}, RHS: &influxql.IntegerLiteral{Val: stop.UnixNano()}})
	var field influxql.Expr = &influxql.VarRef{Val: influxschema.FieldValue}
	if fn != "" {
		field = &influxql.Call{Name: fn, Args: []influxql.Expr{field}}
	}
	stmt := &influxql.SelectStatement{
		Fields:     influxql.Fields{{Expr: field}},
		Sources:    influxql.Sources{&influxql.Measurement{Database: c.db, RetentionPolicy: c.rp, Name: influxschema.Measurement}},
		Condition:  cond,
		Dimensions: dims,
		Fill:       fill,
	}
	return stmt.String(), nil
}

// influxQLAnswer is one statement's series, or its error.
type influxQLAnswer struct {
	series []influxQLSeries
	err    error
}

// runStatements posts the statements to /query in one request (times in
// nanoseconds) and returns each one's answer. An error is the request's:
// InfluxDB did not answer, or refused the request as a whole.
func (c *Client) runStatements(ctx context.Context, stmts []string) ([]influxQLAnswer, error) {
	form := url.Values{"db": {c.db}, "epoch": {"ns"}, "q": {strings.Join(stmts, ";\n")}}
	if c.rp != "" {
		form.Set("rp", c.rp)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("influxql: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.Warn("influxql query failed", "err", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			StatementID int              `json:"statement_id"`
			Series      []influxQLSeries `json:"series"`
			Error       string           `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, 64<<20))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: influxql answer (%s): %w", ErrUnavailable, resp.Status, err)
	}
	if out.Error != "" || resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%w: influxql (%s): %s", ErrUnavailable, resp.Status, trunc(out.Error))
	}
	answers := make([]influxQLAnswer, len(stmts))
	for i := range answers {
		answers[i].err = fmt.Errorf("%w: influxql: no answer to statement %d", ErrUnavailable, i)
	}
	for _, r := range out.Results {
		if r.StatementID < 0 || r.StatementID >= len(stmts) {
			continue
		}
		a := influxQLAnswer{series: r.Series}
		if r.Error != "" {
			a.err = fmt.Errorf("%w: influxql: %s", ErrUnavailable, trunc(r.Error))
		}
		answers[r.StatementID] = a
	}
	return answers, nil
}

// eachRow calls fn with every [time (ns), value] row of the series,
// skipping null values.
func eachRow(series []influxQLSeries, fn func(sr *influxQLSeries, ns int64, v float64)) error {
	for i := range series {
		for _, row := range series[i].Values {
			if len(row) != 2 || row[1] == "" {
				continue
			}
			ns, err1 := row[0].Int64()
			v, err2 := row[1].Float64()
			if err := errors.Join(err1, err2); err != nil {
				return fmt.Errorf("%w: influxql row %v: %w", ErrUnavailable, row, err)
			}
			fn(&series[i], ns, v)
		}
	}
	return nil
}

// --- Flux: one query per kind, concurrently ---

// readConcurrency bounds the Flux queries one Read runs at once.
const readConcurrency = 4

// readFlux reads each range group in at most readConcurrency queries (its
// series shared among them: InfluxDB 1.8's Flux reads three week-long
// series in 52 ms as three concurrent queries, 61–79 ms as one), the
// latest readings in one and the tracks in one, all concurrently.
func (c *Client) readFlux(ctx context.Context, p *readPlan, groups []*rangeGroup, f *fetched) {
	var chunks []*rangeGroup
	for _, g := range groups {
		n := min(len(g.keys), readConcurrency)
		for i := range n {
			part := &rangeGroup{start: g.start, stop: g.stop, agg: g.agg, every: g.every, ids: g.ids}
			for j := i; j < len(g.keys); j += n {
				part.keys = append(part.keys, g.keys[j])
			}
			chunks = append(chunks, part)
		}
	}
	groups = chunks
	var g errgroup.Group // no failure cancels the others: each kind stands alone
	g.SetLimit(readConcurrency)
	got := make([]map[SeriesKey][]Point, len(groups))
	errs := make([]error, len(groups))
	for i, rg := range groups {
		g.Go(func() error {
			got[i], errs[i] = c.fluxRanges(ctx, rg)
			return nil
		})
	}
	if len(p.latest) > 0 {
		g.Go(func() error {
			f.latestErr = c.fluxLatest(ctx, p, f)
			return nil
		})
	}
	if len(p.tracks) > 0 {
		g.Go(func() error {
			f.tracksErr = c.fluxTracks(ctx, p, f)
			return nil
		})
	}
	_ = g.Wait()
	for i, rg := range groups {
		if errs[i] != nil {
			f.rangesErr = errs[i]
			continue
		}
		for _, k := range rg.keys {
			d := rg.newSeriesData(k)
			d.Points = append(d.Points, got[i][k]...)
			finish(d)
			f.ranges[rg.ids[k]] = d
		}
	}
}

// fluxKeys is the Flux condition matching any of the series keys.
func fluxKeys(keys []SeriesKey) string {
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = "r.site == " + fluxString(k.Site) + " and r.device == " + fluxString(k.Device) + " and r.quantity == " + fluxString(k.Quantity)
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return "(" + strings.Join(terms, ") or (") + ")"
}

// fluxRangeFilter reads the series over [start, stop) (an open pipeline).
func (c *Client) fluxRangeFilter(start, stop time.Time, keys []SeriesKey) string {
	return c.from(fluxTime(start), fluxTime(stop)) + " and (" + fluxKeys(keys) + "))\n"
}

// fluxRanges aggregates a group's series into the windows of Flux's
// aggregateWindow(every, fn, createEmpty: false): aligned on the Unix epoch,
// clipped to [start, stop), each stamped with its (clipped) stop. The raw
// points are folded in Go (InfluxDB 1.8's aggregateWindow costs ~4× a raw
// fetch); past RawPointLimit points in a series, Flux's server-side
// aggregateWindow takes over for the group.
func (c *Client) fluxRanges(ctx context.Context, g *rangeGroup) (map[SeriesKey][]Point, error) {
	pts, err := c.fluxRaw(ctx, g)
	if errors.Is(err, errTooManyPoints) {
		c.log.Info("range over the raw point limit, aggregating in InfluxDB", "series", len(g.keys),
			"start", g.start, "stop", g.stop, "limit", rawPointLimit)
		pts, err = c.fluxServer(ctx, g)
	}
	return pts, err
}

func (c *Client) fluxRaw(ctx context.Context, g *rangeGroup) (map[SeriesKey][]Point, error) {
	// limit bounds the response (per table: one per series and unit or
	// mission tag value); the raw CSV is decoded here, cheaper than
	// FluxRecord maps. One series needs only its times and values, several
	// the tags that tell them apart (each column costs on every row).
	keep := []string{"_time", "_value"}
	for _, tag := range []struct {
		name string
		of   func(SeriesKey) string
	}{{influxschema.TagSite, func(k SeriesKey) string { return k.Site }}, {influxschema.TagDevice, func(k SeriesKey) string { return k.Device }},
		{influxschema.TagQuantity, func(k SeriesKey) string { return k.Quantity }}} {
		for _, k := range g.keys[1:] {
			if tag.of(k) != tag.of(g.keys[0]) {
				keep = append(keep, tag.name)
				break
			}
		}
	}
	cols := fluxColumnList(keep...)
	flux := c.fluxRangeFilter(g.start, g.stop, g.keys) + fmt.Sprintf("  |> limit(n: %d)\n  |> keep(columns: %s)", rawPointLimit+1, cols)
	start, stop, ev := g.start.UnixNano(), g.stop.UnixNano(), int64(g.every)
	first := floorDiv(start, ev) * ev
	nwin := (stop - first + ev - 1) / ev
	wins := map[SeriesKey][]window{}
	read := map[SeriesKey]int{}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := c.query.QueryRaw(ctx, flux, rawDialect)
	if err != nil {
		c.log.Warn("flux query failed", "err", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ti, vi, si, di, qi, header, isErr := -1, -1, -1, -1, -1, true, false
	for len(body) > 0 {
		line := body
		if i := strings.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '#' {
			header = true // a new table with its own header follows
			continue
		}
		cols := strings.Split(line, ",")
		if header {
			header, ti, vi, si, di, qi, isErr = false, -1, -1, -1, -1, -1, false
			for i, col := range cols {
				switch col {
				case "_time":
					ti = i
				case "_value":
					vi = i
				case influxschema.TagSite:
					si = i
				case influxschema.TagDevice:
					di = i
				case influxschema.TagQuantity:
					qi = i
				case "error":
					isErr = true
				}
			}
			continue
		}
		if isErr {
			return nil, fmt.Errorf("%w: %s", ErrUnavailable, trunc(line))
		}
		if ti < 0 || vi < 0 || ti >= len(cols) || vi >= len(cols) {
			continue // not a data table
		}
		k := g.keys[0] // the tags the query did not keep are the same for all
		for _, c := range []struct {
			at  int
			dst *string
		}{{si, &k.Site}, {di, &k.Device}, {qi, &k.Quantity}} {
			if c.at >= 0 && c.at < len(cols) {
				*c.dst = cols[c.at]
			}
		}
		if read[k]++; read[k] > rawPointLimit {
			return nil, errTooManyPoints
		}
		v, err := strconv.ParseFloat(cols[vi], 64)
		if err != nil {
			continue
		}
		tm, err := time.Parse(time.RFC3339Nano, cols[ti])
		if err != nil {
			continue
		}
		t := tm.UnixNano()
		if t < start || t >= stop {
			continue
		}
		ws := wins[k]
		if ws == nil {
			if _, asked := g.ids[k]; !asked {
				continue
			}
			ws = make([]window, nwin)
			wins[k] = ws
		}
		w := &ws[(t-first)/ev]
		if w.n == 0 {
			w.sum, w.min, w.max, w.last, w.lastT = v, v, v, v, t
		} else {
			w.sum += v
			w.min = math.Min(w.min, v)
			w.max = math.Max(w.max, v)
			if t >= w.lastT {
				w.last, w.lastT = v, t
			}
		}
		w.n++
	}
	out := map[SeriesKey][]Point{}
	for k, ws := range wins {
		pts := []Point{}
		for i, w := range ws {
			if w.n == 0 {
				continue
			}
			end := min(first+int64(i+1)*ev, stop)
			p := Point{Time: time.Unix(0, end).UTC()}
			switch g.agg {
			case Min:
				p.Value = w.min
			case Max:
				p.Value = w.max
			case Last:
				p.Value = w.last
			default:
				p.Value = w.sum / float64(w.n)
			}
			pts = append(pts, p)
		}
		out[k] = pts
	}
	return out, nil
}

// fluxServer aggregates a group in InfluxDB.
func (c *Client) fluxServer(ctx context.Context, g *rangeGroup) (map[SeriesKey][]Point, error) {
	var b strings.Builder
	b.WriteString(c.fluxRangeFilter(g.start, g.stop, g.keys))
	// Merge tables split by the unit or mission tags into one per series.
	b.WriteString("  |> group(columns: " + fluxColumnList(influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity) + ")\n")
	if g.agg == Last {
		b.WriteString("  |> sort(columns: [\"_time\"])\n")
	}
	fmt.Fprintf(&b, "  |> aggregateWindow(every: %ds, fn: %s, createEmpty: false)\n", int64(g.every/time.Second), g.agg)
	b.WriteString("  |> keep(columns: " + fluxColumnList("_time", "_value", influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity) + ")")
	out := map[SeriesKey][]Point{}
	err := c.each(ctx, b.String(), func(r *query.FluxRecord) bool {
		if v, ok := toFloat(r.Value()); ok {
			k := SeriesKey{Site: str(r.ValueByKey(influxschema.TagSite)), Device: str(r.ValueByKey(influxschema.TagDevice)), Quantity: str(r.ValueByKey(influxschema.TagQuantity))}
			out[k] = append(out[k], Point{Time: r.Time().UTC(), Value: v})
		}
		return true
	})
	return out, err
}

// fluxLatest reads the latest readings of the plan's series.
func (c *Client) fluxLatest(ctx context.Context, p *readPlan, f *fetched) error {
	q := c.from(fmt.Sprintf("-%ds", int64(p.lookback/time.Second)), "now()") + " and (" + fluxKeys(p.latest) + "))\n" +
		"  |> last()\n  |> group(columns: " + fluxColumnList(influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity, influxschema.TagUnit) + ")\n" +
		"  |> sort(columns: [\"_time\"])\n  |> last()\n  |> group()\n" +
		"  |> keep(columns: " + fluxColumnList("_time", "_value", influxschema.TagSite, influxschema.TagDevice, influxschema.TagQuantity, influxschema.TagUnit) + ")"
	got := []*Latest{}
	err := c.each(ctx, q, func(r *query.FluxRecord) bool {
		if v, ok := toFloat(r.Value()); ok {
			got = append(got, &Latest{Series: smartdeal.Series{Site: str(r.ValueByKey(influxschema.TagSite)), Device: str(r.ValueByKey(influxschema.TagDevice)),
				Quantity: str(r.ValueByKey(influxschema.TagQuantity)), Unit: str(r.ValueByKey(influxschema.TagUnit))}, Time: r.Time().UTC(), Value: v})
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, l := range got {
		f.keepNewest(l)
	}
	return nil
}

// fluxTracks reads the plan's tracks: the drones' fixes tagged with their
// missions over the tracks' windows together, pivoted into one row per
// instant per track (trackOf then keeps each track's own window).
func (c *Client) fluxTracks(ctx context.Context, p *readPlan, f *fetched) error {
	ids := make([]string, len(p.tracks))
	for i, t := range p.tracks {
		ids[i] = "r.site == " + fluxString(t.site) + " and r.device == " + fluxString(t.device) + " and r.mission == " + fluxString(t.mission)
	}
	qs := make([]string, len(trackQuantities))
	for i, q := range trackQuantities {
		qs[i] = "r.quantity == " + fluxString(q)
	}
	data := c.from(fluxTime(p.from), fluxTime(p.to)) + " and ((" + strings.Join(ids, ") or (") + ")) and (" + strings.Join(qs, " or ") + "))\n" +
		"  |> keep(columns: " + fluxColumnList("_time", "_value", influxschema.TagQuantity, influxschema.TagSite, influxschema.TagDevice, influxschema.TagMission) + ")\n"
	pivot := "  |> group(columns: " + fluxColumnList(influxschema.TagSite, influxschema.TagDevice, influxschema.TagMission) + ")\n" +
		"  |> pivot(rowKey: [\"_time\"], columnKey: [\"quantity\"], valueColumn: \"_value\")\n" +
		"  |> sort(columns: [\"_time\"])"
	if p.every == 0 {
		return c.fluxTrackRows(ctx, data+pivot, f)
	}
	// The first value of each window (a selector keeps its row's time),
	// then each series' first and last values, merged as InfluxQL's are.
	windows := &fetched{tracks: map[trackID][]TrackPoint{}, batteries: map[trackID][]Point{}}
	edges := &fetched{tracks: map[trackID][]TrackPoint{}, batteries: map[trackID][]Point{}}
	var g errgroup.Group
	g.Go(func() error {
		return c.fluxTrackRows(ctx, data+"  |> window(every: "+strconv.FormatInt(int64(p.every/time.Second), 10)+"s)\n  |> first()\n"+pivot, windows)
	})
	g.Go(func() error {
		return c.fluxTrackRows(ctx, "data = "+data+"union(tables: [data |> first(), data |> last()])\n"+pivot, edges)
	})
	if err := g.Wait(); err != nil {
		return err
	}
	f.keepEdges(windows, edges)
	return nil
}

// fluxTrackRows reads the tracks query q's rows (pivoted, in time order)
// into f.
func (c *Client) fluxTrackRows(ctx context.Context, q string, f *fetched) error {
	got := map[trackID][]TrackPoint{}
	bats := map[trackID][]Point{}
	err := c.each(ctx, q, func(r *query.FluxRecord) bool {
		vals := r.Values()
		id := trackID{str(vals[influxschema.TagSite]), str(vals[influxschema.TagDevice]), str(vals[influxschema.TagMission])}
		if b, ok := toFloat(vals["battery_remaining"]); ok {
			if n := len(bats[id]); n == 0 || !bats[id][n-1].Time.Equal(r.Time()) {
				bats[id] = append(bats[id], Point{Time: r.Time().UTC(), Value: b})
			}
		}
		lat, ok1 := toFloat(vals["latitude"])
		lon, ok2 := toFloat(vals["longitude"])
		if !ok1 || !ok2 {
			return true
		}
		pt := TrackPoint{Time: r.Time().UTC(), Lat: lat, Lon: lon}
		pt.Altitude, pt.RelativeAltitude = optFloat(vals["altitude"]), optFloat(vals["relative_altitude"])
		if n := len(got[id]); n > 0 && got[id][n-1].Time.Equal(pt.Time) {
			return true // the first and the last of a one-fix track
		}
		got[id] = append(got[id], pt)
		return true
	})
	if err != nil {
		return err
	}
	for id, pts := range got {
		f.tracks[id] = pts
	}
	for id, b := range bats {
		f.batteries[id] = b // sorted: the rows come sorted on _time
	}
	return nil
}

// fluxColumnList writes a Flux array of column names: ["site", "device"].
func fluxColumnList(cols ...string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = fluxString(c)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
