package api

import (
	"bytes"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
)

type openProposal struct {
	ID               string       `json:"id"`
	Campaign         string       `json:"campaign_id"`
	Theme            string       `json:"theme_id"`
	Title            string       `json:"title"`
	Body             string       `json:"body"`
	Status           civic.Status `json:"status"`
	RejectionReason  string       `json:"rejection_reason,omitempty"`
	Votes            int          `json:"votes"`
	EstimatedCostEUR int64        `json:"estimated_cost_eur"`
	Location         *civic.Point `json:"location,omitempty"`
	Created          time.Time    `json:"created"`
}

type openProposals struct {
	Licence   string         `json:"licence"`
	Generated time.Time      `json:"generated"`
	Proposals []openProposal `json:"proposals"`
}

// openData lists public proposals without any personal data (no author).
func (s *Server) openData(c *fiber.Ctx) (*openProposals, error) {
	out := &openProposals{Licence: s.cfg.Licence, Generated: s.now().UTC(), Proposals: []openProposal{}}
	for off := 0; ; off += 500 {
		ps, err := s.store.Proposals(ctx(c), civic.ProposalFilter{Statuses: publicStatuses, Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out.Proposals = append(out.Proposals, openProposal{ID: p.ID, Campaign: p.CampaignID, Theme: p.ThemeID, Title: p.Title, Body: p.Body,
				Status: p.Status, RejectionReason: p.RejectionReason, Votes: p.Votes, EstimatedCostEUR: p.EstimatedCostEUR, Location: p.Location, Created: p.Created})
		}
		if len(ps) < 500 {
			return out, nil
		}
	}
}

func (s *Server) openProposalsJSON(c *fiber.Ctx) error {
	d, err := s.openData(c)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) sendCSV(c *fiber.Ctx, name string, rows [][]string) error {
	var buf bytes.Buffer
	if err := writeCSV(&buf, rows); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set("X-Licence", s.cfg.Licence)
	return c.Send(buf.Bytes())
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (s *Server) openProposalsCSV(c *fiber.Ctx) error {
	d, err := s.openData(c)
	if err != nil {
		return err
	}
	rows := [][]string{{"id", "campaign_id", "theme_id", "title", "status", "rejection_reason", "votes", "estimated_cost_eur", "lat", "lon", "created", "licence"}}
	for _, p := range d.Proposals {
		lat, lon := "", ""
		if p.Location != nil {
			lat, lon = ff(p.Location.Lat), ff(p.Location.Lon)
		}
		rows = append(rows, []string{p.ID, p.Campaign, p.Theme, p.Title, string(p.Status), p.RejectionReason, strconv.Itoa(p.Votes),
			strconv.FormatInt(p.EstimatedCostEUR, 10), lat, lon, p.Created.Format(time.RFC3339), d.Licence})
	}
	return s.sendCSV(c, "proposals.csv", rows)
}

func (s *Server) openSites(c *fiber.Ctx) error {
	sites, err := s.store.Sites(ctx(c))
	if err != nil {
		return err
	}
	devs, err := s.store.Devices(ctx(c), "")
	if err != nil {
		return err
	}
	bySite := map[string][]map[string]any{}
	for _, d := range devs {
		bySite[d.SiteID] = append(bySite[d.SiteID], map[string]any{"id": d.ID, "kind": d.Kind, "model": d.Model, "quantities": d.Quantities, "status": d.Status})
	}
	features := []map[string]any{}
	for _, st := range sites {
		ds := bySite[st.ID]
		if ds == nil {
			ds = []map[string]any{}
		}
		features = append(features, map[string]any{
			"type":       "Feature",
			"id":         st.ID,
			"geometry":   map[string]any{"type": "Point", "coordinates": []float64{st.Location.Lon, st.Location.Lat}},
			"properties": map[string]any{"id": st.ID, "name": st.Name, "devices": ds},
		})
	}
	c.Set("X-Licence", s.cfg.Licence)
	// c.JSON's own type would replace one set before it.
	return c.JSON(map[string]any{"type": "FeatureCollection", "licence": s.cfg.Licence, "features": features}, app.GeoJSONType)
}

func (s *Server) openSeriesCSV(c *fiber.Ctx) error {
	q, err := rangeQuery(c)
	if err != nil {
		return err
	}
	d, err := s.meas.Range(ctx(c), q)
	if err != nil {
		return err
	}
	rows := [][]string{{"time", "site", "device", "quantity", "aggregate", "every", "value", "licence"}}
	for _, p := range d.Points {
		rows = append(rows, []string{p.Time.Format(time.RFC3339), d.Site, d.Device, d.Quantity, string(d.Agg), d.Every, ff(p.Value), s.cfg.Licence})
	}
	return s.sendCSV(c, d.Site+"_"+d.Device+"_"+d.Quantity+".csv", rows)
}
