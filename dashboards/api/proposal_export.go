package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The export of a proposal with the series linked to it (issue 12): the
// proposal's public fields, each series' metadata and its values over a
// range, as JSON or CSV, so that anyone can check a proposal's claim
// against the data that supports it. Public proposals only, whoever asks
// (it is open data); the range defaults to the proposal page's.

// maxExportRange bounds an export's range.
const maxExportRange = 366 * 24 * time.Hour

type exportSeries struct {
	Site     string         `json:"site"`
	Device   string         `json:"device"`
	Quantity string         `json:"quantity"`
	Unit     string         `json:"unit,omitempty"`
	Agg      string         `json:"aggregate"`
	Every    string         `json:"every"`
	Points   []series.Point `json:"points"`
}

type proposalExport struct {
	Licence   string         `json:"licence"`
	Generated time.Time      `json:"generated"`
	Proposal  openProposal   `json:"proposal"`
	Start     time.Time      `json:"start"`
	Stop      time.Time      `json:"stop"`
	Series    []exportSeries `json:"series"`
}

func (s *Server) proposalExportRoutes() []*web.Route {
	params := []web.Param{web.Q("start", "string", "RFC 3339 start (default: stop minus the proposal page's range)"),
		web.Q("stop", "string", "RFC 3339 end (default: the current minute)")}
	return []*web.Route{
		{Method: "GET", Path: "/opendata/ideas/:id/series.json", Tag: "opendata", Summary: "A public proposal with its linked series: the proposal, each series' metadata and its values (windowed means, at most 10,000 points a series) over a range of at most 366 days", Params: params, Response: proposalExport{}, Handler: s.proposalExportJSON},
		{Method: "GET", Path: "/opendata/ideas/:id/series.csv", Tag: "opendata", Summary: "The same as series.json as CSV: one row per value, with the proposal's id and title, the series and the licence (cells neutralised against formula injection)", Params: params, Produces: "text/csv", Handler: s.proposalExportCSV},
	}
}

func (s *Server) proposalExport(c *fiber.Ctx) (*proposalExport, error) {
	stop := s.now().UTC().Truncate(time.Minute)
	var err error
	if v := c.Query("stop"); v != "" {
		if stop, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, civic.FieldError("stop", "want an RFC 3339 time")
		}
	}
	start := stop.Add(-s.cfg.PageRange)
	if v := c.Query("start"); v != "" {
		if start, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, civic.FieldError("start", "want an RFC 3339 time")
		}
	}
	if !stop.After(start) {
		return nil, civic.FieldError("stop", "must be after start")
	}
	if stop.Sub(start) > maxExportRange {
		return nil, civic.FieldError("start", "the range is at most 366 days")
	}
	// Anonymous: public proposals only, as any open data.
	v, err := s.views.ProposalPage(ctx(c), nil, c.Params("id"), app.ProposalOptions{Span: stop.Sub(start), Stop: stop,
		Points: series.MaxPointsLimit, Detail: true})
	if err != nil {
		return nil, err
	}
	p := v.Proposal
	out := &proposalExport{Licence: s.cfg.Licence, Generated: s.now().UTC(), Start: v.Start, Stop: v.Stop, Series: []exportSeries{},
		Proposal: openProposal{ID: p.ID, Campaign: p.CampaignID, Theme: p.ThemeID, Title: p.Title, Body: p.Body, Status: p.Status,
			RejectionReason: p.RejectionReason, Votes: p.Votes, EstimatedCostEUR: p.EstimatedCostEUR, Location: p.Location, Created: p.Created}}
	for _, sr := range v.Series {
		d := sr.Data
		unit := sr.Unit
		if unit == "" && sr.Latest != nil {
			unit = sr.Latest.Unit
		}
		pts := d.Points
		if pts == nil {
			pts = []series.Point{}
		}
		out.Series = append(out.Series, exportSeries{Site: d.Site, Device: d.Device, Quantity: d.Quantity, Unit: unit, Agg: string(d.Agg), Every: d.Every, Points: pts})
	}
	return out, nil
}

func (s *Server) proposalExportJSON(c *fiber.Ctx) error {
	out, err := s.proposalExport(c)
	if err != nil {
		return err
	}
	c.Set("X-Licence", s.cfg.Licence)
	return c.JSON(out)
}

func (s *Server) proposalExportCSV(c *fiber.Ctx) error {
	out, err := s.proposalExport(c)
	if err != nil {
		return err
	}
	p := out.Proposal
	rows := [][]string{{"proposal_id", "proposal_title", "site", "device", "quantity", "unit", "aggregate", "every", "time", "value", "licence"}}
	for _, sr := range out.Series {
		for _, pt := range sr.Points {
			rows = append(rows, []string{p.ID, p.Title, sr.Site, sr.Device, sr.Quantity, sr.Unit, sr.Agg, sr.Every, pt.Time.UTC().Format(time.RFC3339), ff(pt.Value), s.cfg.Licence})
		}
	}
	return s.sendCSV(c, "proposition_"+p.ID+"_series.csv", rows)
}
