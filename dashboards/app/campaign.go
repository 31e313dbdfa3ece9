package app

import (
	"context"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// CampaignBudget is a campaign with what its selected, in-progress and
// realized proposals commit of its budget (GET /api/v1/campaigns, the
// review desk).
type CampaignBudget struct {
	civic.Campaign
	CommittedEUR int64 `json:"committed_eur"`
	RemainingEUR int64 `json:"remaining_eur"`
}

// Campaign returns cp with its committed and remaining budget.
func (v *Views) Campaign(ctx context.Context, cp *civic.Campaign) (CampaignBudget, error) {
	committed, err := v.store.CommittedEUR(ctx, cp.ID)
	if err != nil {
		return CampaignBudget{}, err
	}
	return CampaignBudget{Campaign: *cp, CommittedEUR: committed, RemainingEUR: cp.Remaining(committed)}, nil
}
