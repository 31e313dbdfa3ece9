package measure

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxql"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/influxschema"
)

// Engines that Range can aggregate with (Config.Engine).
const (
	// EngineAuto picks EngineInfluxQL on InfluxDB 1.x and EngineFlux otherwise.
	EngineAuto = "auto"
	// EngineInfluxQL aggregates in InfluxDB with InfluxQL's GROUP BY time():
	// InfluxDB 1.8's native query engine reads and aggregates a week of
	// minute data in ~5 ms, where its Flux engine (no window-aggregate
	// pushdown there) needs ~20 ms just to stream the raw points out.
	EngineInfluxQL = "influxql"
	// EngineFlux reads raw points with Flux and aggregates them in Go (the
	// path for InfluxDB 2.x and Cloud, where InfluxQL needs DBRP mappings).
	EngineFlux = "flux"
)

// engine resolves Config.Engine, asking the server its version once for
// "auto"; a failed probe is not remembered, so the next query asks again.
type engine struct {
	mu     sync.Mutex
	chosen string
}

func (c *Client) rangeEngine(ctx context.Context) (string, error) {
	if c.cfg.Engine != EngineAuto {
		return c.cfg.Engine, nil
	}
	c.engine.mu.Lock()
	chosen := c.engine.chosen
	c.engine.mu.Unlock()
	if chosen != "" {
		return chosen, nil
	}
	// Not under the lock: with InfluxDB hanging, concurrent first queries
	// each wait for their own ping (bounded by the timeout), not in a line.
	chosen, version, err := c.probeEngine(ctx)
	if err != nil {
		return "", err
	}
	c.engine.mu.Lock()
	defer c.engine.mu.Unlock()
	if c.engine.chosen == "" {
		c.engine.chosen = chosen
		c.log.Info("measurements engine chosen", "influxdb_version", version, "engine", chosen)
	}
	return c.engine.chosen, nil
}

// probeEngine asks /ping which InfluxDB answers. Releases of 1.x say
// "1.8.10"; 1.x built from source (go install, as here) says "unknown",
// where 2.x says "dev"; 2.x says "v2.7.10"; Cloud says it in X-Influxdb-Build.
func (c *Client) probeEngine(ctx context.Context) (engine, version string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/ping", nil)
	if err != nil {
		return "", "", fmt.Errorf("ping: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%w: ping: %w", ErrUnavailable, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return "", "", fmt.Errorf("%w: ping: %s", ErrUnavailable, resp.Status)
	}
	version = resp.Header.Get("X-Influxdb-Version")
	if (strings.HasPrefix(version, "1.") || version == "unknown") && resp.Header.Get("X-Influxdb-Build") != "Cloud" {
		return EngineInfluxQL, version, nil
	}
	return EngineFlux, version, nil
}

// influxQLRange is the statement of one series of a range group: one
// aggregate per window.
func (c *Client) influxQLRange(g *rangeGroup, k SeriesKey) (string, error) {
	dims := influxql.Dimensions{{Expr: &influxql.Call{Name: "time", Args: []influxql.Expr{&influxql.DurationLiteral{Val: g.every}}}}}
	return c.influxQLStatement(string(g.agg), [][][][2]string{keyTags([]SeriesKey{k})}, g.start, g.stop, dims, influxql.NoFill)
}

// seriesInfluxQL lists the series with their last value (Series): last()
// per site, device, quantity and unit, which merges the tables split by the
// mission tag as the Flux query does.
func (c *Client) seriesInfluxQL(ctx context.Context, f Filter, now time.Time) ([]Latest, error) {
	var tags [][2]string
	for _, kv := range [][2]string{{influxschema.TagSite, f.Site}, {influxschema.TagDevice, f.Device}, {influxschema.TagQuantity, f.Quantity}} {
		if kv[1] != "" {
			tags = append(tags, kv)
		}
	}
	var match [][][][2]string
	if len(tags) > 0 {
		match = [][][][2]string{{tags}}
	}
	var dims influxql.Dimensions
	for _, t := range seriesTags {
		dims = append(dims, &influxql.Dimension{Expr: &influxql.VarRef{Val: t}})
	}
	// The stop bound keeps the statement's time range closed; a minute
	// ahead tolerates clocks a little off, as Flux's now() does not.
	stmt, err := c.influxQLStatement("last", match, now.Add(-f.Lookback), now.Add(time.Minute), dims, influxql.NoFill)
	if err != nil {
		return nil, err
	}
	answers, err := c.runStatements(ctx, []string{stmt})
	if err != nil {
		return nil, err
	}
	if answers[0].err != nil {
		return nil, answers[0].err
	}
	out := []Latest{}
	err = eachRow(answers[0].series, func(sr *influxQLSeries, ns int64, v float64) {
		out = append(out, Latest{Series: smartdeal.Series{Site: sr.Tags[influxschema.TagSite], Device: sr.Tags[influxschema.TagDevice],
			Quantity: sr.Tags[influxschema.TagQuantity], Unit: sr.Tags[influxschema.TagUnit]},
			Time: time.Unix(0, ns).UTC().Truncate(time.Second), Value: v}) // whole seconds, as this list always gave
	})
	return out, err
}

// influxQLSeries is one series of a /query answer.
type influxQLSeries struct {
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]json.Number   `json:"values"`
}

// authorize sets the credentials of Config.Token: "user:password" as HTTP
// Basic (InfluxDB 1.x), anything else as a v2 token.
func (c *Client) authorize(req *http.Request) {
	if c.cfg.Token == "" {
		return
	}
	if user, pass, ok := strings.Cut(c.cfg.Token, ":"); ok {
		req.SetBasicAuth(user, pass)
		return
	}
	req.Header.Set("Authorization", "Token "+c.cfg.Token)
}
