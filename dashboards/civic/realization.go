package civic

import (
	"context"
	"strings"
	"time"
)

// The realization of a selected proposal: updates with a text, optionally a
// milestone and its date, the progress and the actual cost so far, shown on
// the proposal page against the estimate and the campaign's budget; the
// author and supporters who opted in to status e-mails are told.

// RealizationRoles post realization updates: those who move a proposal
// into and through its realization (Transitions).
var RealizationRoles = []Role{RoleAdmin, RoleAgent}

// MaxRealizationText bounds an update's text, in characters.
const MaxRealizationText = 5000

// RealizationUpdate is one update of a proposal's realization.
type RealizationUpdate struct {
	ID            string     `json:"id"`
	ProposalID    string     `json:"proposal_id"`
	AuthorID      string     `json:"author_id,omitempty"`
	Body          string     `json:"body"`
	Milestone     string     `json:"milestone,omitempty"`
	MilestoneDate *time.Time `json:"milestone_date,omitempty"`
	Progress      *int       `json:"progress,omitempty"`        // percent, 0 to 100
	ActualCostEUR *int64     `json:"actual_cost_eur,omitempty"` // spent so far
	Created       time.Time  `json:"created"`
}

// Validate checks an update (fields body, milestone, milestone_date,
// progress, actual_cost_eur).
func (u *RealizationUpdate) Validate() error {
	u.Body, u.Milestone = strings.TrimSpace(u.Body), strings.TrimSpace(u.Milestone)
	if err := checkText("body", u.Body, 1, MaxRealizationText); err != nil {
		return err
	}
	if err := checkText("milestone", u.Milestone, 0, 200); err != nil {
		return err
	}
	if u.MilestoneDate != nil && u.Milestone == "" {
		return FieldError("milestone", "a milestone date needs the milestone's name")
	}
	if u.Progress != nil && (*u.Progress < 0 || *u.Progress > 100) {
		return FieldError("progress", "want 0 to 100")
	}
	if u.ActualCostEUR != nil && (*u.ActualCostEUR < 0 || *u.ActualCostEUR > 1_000_000_000_000) {
		return FieldError("actual_cost_eur", "want 0 to 1e12")
	}
	return nil
}

// CheckRealization says whether a proposal in status st takes realization
// updates: only once selected (Status.Spends).
func CheckRealization(st Status) error {
	if !st.Spends() {
		return Errorf(ECONFLICT, "only a selected, in-progress or realized proposal has a realization (status is %s)", st)
	}
	return nil
}

// Realization sums up a proposal's updates (oldest first): the latest
// progress and actual cost reported, and the milestones.
type Realization struct {
	Updates       []*RealizationUpdate `json:"updates"` // newest first
	Progress      *int                 `json:"progress,omitempty"`
	ActualCostEUR *int64               `json:"actual_cost_eur,omitempty"`
}

// SumRealization sums up updates given newest first.
func SumRealization(updates []*RealizationUpdate) Realization {
	r := Realization{Updates: updates}
	for _, u := range updates {
		if r.Progress == nil && u.Progress != nil {
			r.Progress = u.Progress
		}
		if r.ActualCostEUR == nil && u.ActualCostEUR != nil {
			r.ActualCostEUR = u.ActualCostEUR
		}
	}
	return r
}

// RealizationService stores the updates.
type RealizationService interface {
	// AddRealizationUpdate stores u for a proposal that CheckRealization
	// accepts, audited, and queues its mails; ENOTFOUND for an unknown one.
	AddRealizationUpdate(ctx context.Context, u *RealizationUpdate) (mails int, err error)
	// RealizationUpdates lists a proposal's updates, newest first (at most 200).
	RealizationUpdates(ctx context.Context, proposalID string) ([]*RealizationUpdate, error)
	RealizationUpdate(ctx context.Context, id string) (*RealizationUpdate, error)
}
