package civic

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Running campaigns from the back office: a campaign may have its own
// themes (the GREEN Deal runs after the SMART Deal with its own), the
// shortlist rule is applied (Shortlist) and the vote closed.

// CheckCampaignTheme says whether a proposal of a campaign whose own
// themes are themes (none: every theme) may take themeID (field theme_id).
func CheckCampaignTheme(themes []string, themeID string) error {
	if len(themes) == 0 || slices.Contains(themes, themeID) {
		return nil
	}
	return FieldError("theme_id", "not a theme of this campaign")
}

// CheckClose says whether the vote of c may be closed at now: only while
// the campaign runs (ECONFLICT otherwise).
func CheckClose(c *Campaign, now time.Time) error {
	if !c.Open(now) {
		return Errorf(ECONFLICT, "campaign %s is not running: nothing to close", c.ID)
	}
	return nil
}

// CampaignAdmin stores what the back office changes on campaigns.
type CampaignAdmin interface {
	// SetCampaignThemes gives campaign id its own themes (every one must
	// exist; empty: every theme), audited for actor.
	SetCampaignThemes(ctx context.Context, id string, themeIDs []string, actor string) error
	// CampaignThemes lists every campaign's own themes, by campaign.
	CampaignThemes(ctx context.Context) (map[string][]string, error)
	// CloseCampaign ends campaign id's period at now (CheckClose): votes
	// and submissions close; audited for actor.
	CloseCampaign(ctx context.Context, id, actor string, now time.Time) (*Campaign, error)
}

// ResultStatuses are the statuses a campaign's results list: what the
// committee selected (and its realization) and what it rejected.
func ResultStatuses() []Status {
	return append(SpendingStatuses(), StatusRejected)
}

// Results are a campaign's public results: the selected proposals (in
// realization or realized too) against the budget, and the rejected ones
// with the committee's reasons.
type Results struct {
	Campaign     *Campaign   `json:"campaign"`
	Selected     []*Proposal `json:"selected"`
	Rejected     []*Proposal `json:"rejected"`
	CommittedEUR int64       `json:"committed_eur"` // the selected proposals' estimated costs
	RemainingEUR int64       `json:"remaining_eur"`
	Realized     int         `json:"realized"` // selected proposals realized
	InProgress   int         `json:"in_progress"`
}

// CampaignResults sorts ps (a campaign's proposals in ResultStatuses) into
// its results, the most supported first within each list.
func CampaignResults(c *Campaign, ps []*Proposal) *Results {
	r := &Results{Campaign: c, Selected: []*Proposal{}, Rejected: []*Proposal{}}
	for _, p := range ps {
		switch {
		case p.Status.Spends():
			r.Selected = append(r.Selected, p)
			r.CommittedEUR += p.EstimatedCostEUR
			switch p.Status {
			case StatusRealized:
				r.Realized++
			case StatusInProgress:
				r.InProgress++
			}
		case p.Status == StatusRejected:
			r.Rejected = append(r.Rejected, p)
		}
	}
	bySupport := func(a, b *Proposal) int {
		if a.Votes != b.Votes {
			return b.Votes - a.Votes
		}
		return strings.Compare(a.ID, b.ID)
	}
	slices.SortFunc(r.Selected, bySupport)
	slices.SortFunc(r.Rejected, bySupport)
	r.RemainingEUR = c.Remaining(r.CommittedEUR)
	return r
}

// ProposalSort orders a list of proposals.
type ProposalSort string

// The orders of a list of proposals.
const (
	SortDate     ProposalSort = ""         // newest first
	SortSupports ProposalSort = "supports" // most supported first
)

// MaxProposalQuery bounds a text search of proposals, in characters.
const MaxProposalQuery = 100

// CheckProposalQuery checks a search's text and order (fields q, sort) and
// returns the text trimmed.
func CheckProposalQuery(q string, sort ProposalSort) (string, error) {
	q = strings.TrimSpace(q)
	if err := checkText("q", q, 0, MaxProposalQuery); err != nil {
		return "", err
	}
	if sort != SortDate && sort != SortSupports {
		return "", FieldError("sort", "want supports or nothing (newest first)")
	}
	return q, nil
}
