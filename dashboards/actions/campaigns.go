package actions

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Campaign workflows shared by the JSON routes and the back office's forms
// (/admin/appels): create a campaign with its own themes, apply the
// shortlist rule, close the vote.

// CampaignReq is a new campaign. ThemeIDs (optional) are its own themes;
// without them proposals take any theme.
type CampaignReq struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Kind              civic.CampaignKind `json:"kind"`
	Starts            time.Time          `json:"starts"`
	Ends              time.Time          `json:"ends"`
	BudgetEUR         int64              `json:"budget_eur"`
	ShortlistTopN     int                `json:"shortlist_top_n"`
	ShortlistMinVotes int                `json:"shortlist_min_votes"`
	ThemeIDs          []string           `json:"theme_ids,omitempty"`
}

// CreateCampaign stores r, then its themes, both audited.
func (s *Service) CreateCampaign(c *fiber.Ctx, r CampaignReq) (*civic.Campaign, error) {
	cp := &civic.Campaign{ID: r.ID, Name: r.Name, Kind: r.Kind, Starts: r.Starts, Ends: r.Ends, BudgetEUR: r.BudgetEUR,
		ShortlistTopN: r.ShortlistTopN, ShortlistMinVotes: r.ShortlistMinVotes}
	if len(r.ThemeIDs) > 0 {
		// Checked before the campaign exists, so that unknown themes store nothing.
		known, err := s.store.Themes(ctx(c))
		if err != nil {
			return nil, err
		}
		ids := map[string]bool{}
		for _, t := range known {
			ids[t.ID] = true
		}
		for _, id := range r.ThemeIDs {
			if !ids[id] {
				return nil, civic.FieldError("theme_ids", "unknown theme %q", clip(id, 40))
			}
		}
	}
	actor := web.Caller(c).User.ID
	if err := s.store.CreateCampaign(ctx(c), cp); err != nil {
		return nil, err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: actor, Action: "campaign.create", Target: cp.ID})
	if len(r.ThemeIDs) > 0 {
		if err := s.store.SetCampaignThemes(ctx(c), cp.ID, r.ThemeIDs, actor); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

// Shortlist applies the campaign's rule and queues the status mails.
func (s *Service) Shortlist(c *fiber.Ctx, campaignID string) ([]string, error) {
	ids, err := s.store.Shortlist(ctx(c), campaignID, web.Caller(c).User, s.now())
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		s.StatusChanged(c, id, civic.StatusShortlisted, "")
	}
	return ids, nil
}

// CloseVote ends the campaign's period now.
func (s *Service) CloseVote(c *fiber.Ctx, campaignID string) (*civic.Campaign, error) {
	return s.store.CloseCampaign(ctx(c), campaignID, web.Caller(c).User.ID, s.now())
}

// CreateTheme stores a new theme, audited.
func (s *Service) CreateTheme(c *fiber.Ctx, t *civic.Theme) error {
	if err := s.store.CreateTheme(ctx(c), t); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "theme.create", Target: t.ID})
	return nil
}
