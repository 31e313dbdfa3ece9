package civic

import (
	"strings"
	"time"
)

// Status is a proposal's place in the workflow.
type Status string

// Proposal statuses, in workflow order.
const (
	StatusSubmitted   Status = "submitted"
	StatusPublished   Status = "published"
	StatusShortlisted Status = "shortlisted"
	StatusUnderReview Status = "under_review"
	StatusSelected    Status = "selected"
	StatusRejected    Status = "rejected"
	StatusInProgress  Status = "in_progress"
	StatusRealized    Status = "realized"
)

// Transition is one allowed status change and the roles that may make it.
type Transition struct {
	From, To Status
	Roles    []Role
}

// Transitions is the proposal workflow: submitted → published (moderation) →
// shortlisted → under_review → selected | rejected(reason) → in_progress →
// realized. Moderators may also reject at submission or publication.
var Transitions = []Transition{
	{StatusSubmitted, StatusPublished, []Role{RoleAdmin}},
	{StatusSubmitted, StatusRejected, []Role{RoleAdmin}},
	{StatusPublished, StatusShortlisted, []Role{RoleAdmin, RoleExpert}},
	{StatusPublished, StatusRejected, []Role{RoleAdmin}},
	{StatusShortlisted, StatusUnderReview, []Role{RoleAdmin, RoleExpert}},
	{StatusShortlisted, StatusRejected, []Role{RoleAdmin, RoleExpert}},
	{StatusUnderReview, StatusSelected, []Role{RoleAdmin, RoleExpert}},
	{StatusUnderReview, StatusRejected, []Role{RoleAdmin, RoleExpert}},
	{StatusSelected, StatusInProgress, []Role{RoleAdmin, RoleAgent}},
	{StatusInProgress, StatusRealized, []Role{RoleAdmin, RoleAgent}},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusSubmitted, StatusPublished, StatusShortlisted, StatusUnderReview,
		StatusSelected, StatusRejected, StatusInProgress, StatusRealized:
		return true
	}
	return false
}

// Public reports whether proposals in this status are visible to everyone.
func (s Status) Public() bool { return s != StatusSubmitted }

// VotingOpen reports whether citizens may vote (or withdraw a vote) in this status.
func (s Status) VotingOpen() bool { return s == StatusPublished || s == StatusShortlisted }

// Spends reports whether a proposal in this status counts against the budget.
func (s Status) Spends() bool {
	return s == StatusSelected || s == StatusInProgress || s == StatusRealized
}

// CheckTransition returns nil when role may move a proposal from → to, an
// ECONFLICT error when the workflow has no such step and EFORBIDDEN when the
// role may not take it.
func CheckTransition(from, to Status, role Role) error {
	if !to.Valid() {
		return FieldError("status", "unknown status %q", to)
	}
	for _, t := range Transitions {
		if t.From == from && t.To == to {
			if role.In(t.Roles...) {
				return nil
			}
			return Errorf(EFORBIDDEN, "role %s may not move a proposal from %s to %s", role, from, to)
		}
	}
	return Errorf(ECONFLICT, "a proposal cannot go from %s to %s", from, to)
}

// Proposal is a citizen's idea (or an organisation's project).
type Proposal struct {
	ID               string    `json:"id"`
	CampaignID       string    `json:"campaign_id"`
	ThemeID          string    `json:"theme_id"`
	AuthorID         string    `json:"author_id,omitempty"`
	Title            string    `json:"title"`
	Body             string    `json:"body"`
	Location         *Point    `json:"location,omitempty"`
	EstimatedCostEUR int64     `json:"estimated_cost_eur"`
	Status           Status    `json:"status"`
	RejectionReason  string    `json:"rejection_reason,omitempty"`
	Votes            int       `json:"votes"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
}

// Validate checks a new proposal's fields.
func (p *Proposal) Validate() error {
	p.Title = strings.TrimSpace(p.Title)
	p.Body = strings.TrimSpace(p.Body)
	if err := checkText("title", p.Title, 3, 200); err != nil {
		return err
	}
	if err := checkText("body", p.Body, 1, 20000); err != nil {
		return err
	}
	if p.ThemeID == "" {
		return FieldError("theme_id", "required")
	}
	if p.CampaignID == "" {
		return FieldError("campaign_id", "required")
	}
	if p.EstimatedCostEUR < 0 || p.EstimatedCostEUR > 1e12 {
		return FieldError("estimated_cost_eur", "must be between 0 and 10^12")
	}
	if p.Location != nil {
		if err := p.Location.Validate("location"); err != nil {
			return err
		}
	}
	return nil
}

// StatusChange is one entry of a proposal's history.
type StatusChange struct {
	ProposalID string    `json:"proposal_id"`
	From       Status    `json:"from"`
	To         Status    `json:"to"`
	By         string    `json:"by"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// CommentStatus is a comment's moderation state.
type CommentStatus string

// Comment moderation states: new comments wait for a moderator.
const (
	CommentPending  CommentStatus = "pending"
	CommentApproved CommentStatus = "approved"
	CommentHidden   CommentStatus = "hidden"
)

// Comment is a remark on a proposal.
type Comment struct {
	ID         string        `json:"id"`
	ProposalID string        `json:"proposal_id"`
	AuthorID   string        `json:"author_id,omitempty"`
	Body       string        `json:"body"`
	Status     CommentStatus `json:"status"`
	Created    time.Time     `json:"created"`
}

// Validate checks a new comment.
func (c *Comment) Validate() error {
	c.Body = strings.TrimSpace(c.Body)
	return checkText("body", c.Body, 1, 5000)
}

// Review is an expert's scoring of a proposal on the published criteria.
type Review struct {
	ProposalID  string    `json:"proposal_id"`
	ExpertID    string    `json:"expert_id"`
	Impact      int       `json:"impact"`
	Feasibility int       `json:"feasibility"`
	Cost        int       `json:"cost"`
	Comment     string    `json:"comment"`
	Created     time.Time `json:"created"`
}

// Validate checks the scores (1 to 5 each) and comment.
func (r *Review) Validate() error {
	for _, s := range []struct {
		name string
		v    int
	}{{"impact", r.Impact}, {"feasibility", r.Feasibility}, {"cost", r.Cost}} {
		if s.v < 1 || s.v > 5 {
			return FieldError(s.name, "score must be between 1 and 5")
		}
	}
	r.Comment = strings.TrimSpace(r.Comment)
	return checkText("comment", r.Comment, 0, 5000)
}
