package api

import (
	"time"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) themes(c *fiber.Ctx) error {
	ts, err := s.store.Themes(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (s *Server) createTheme(c *fiber.Ctx) error {
	var t civic.Theme
	if err := decode(c, &t); err != nil {
		return err
	}
	if err := s.store.CreateTheme(ctx(c), &t); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "theme.create", Target: t.ID})
	return c.Status(fiber.StatusCreated).JSON(t)
}

type campaignReq struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Kind              civic.CampaignKind `json:"kind"`
	Starts            time.Time          `json:"starts"`
	Ends              time.Time          `json:"ends"`
	BudgetEUR         int64              `json:"budget_eur"`
	ShortlistTopN     int                `json:"shortlist_top_n"`
	ShortlistMinVotes int                `json:"shortlist_min_votes"`
}

func (s *Server) createCampaign(c *fiber.Ctx) error {
	var r campaignReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cp := &civic.Campaign{ID: r.ID, Name: r.Name, Kind: r.Kind, Starts: r.Starts, Ends: r.Ends, BudgetEUR: r.BudgetEUR,
		ShortlistTopN: r.ShortlistTopN, ShortlistMinVotes: r.ShortlistMinVotes}
	if err := s.store.CreateCampaign(ctx(c), cp); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "campaign.create", Target: cp.ID})
	return c.Status(fiber.StatusCreated).JSON(cp)
}

func (s *Server) campaigns(c *fiber.Ctx) error {
	cs, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	out := make([]app.CampaignBudget, 0, len(cs))
	for _, cp := range cs {
		v, err := s.views.Campaign(ctx(c), cp)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(out)
}

func (s *Server) campaign(c *fiber.Ctx) error {
	cp, err := s.store.Campaign(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.views.Campaign(ctx(c), cp)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) shortlist(c *fiber.Ctx) error {
	ids, err := s.store.Shortlist(ctx(c), c.Params("id"), web.Caller(c).User, s.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.act.StatusChanged(c, id, civic.StatusShortlisted, "")
	}
	return c.JSON(map[string][]string{"shortlisted": ids})
}
