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
	// StatusRefused is a moderation refusal (abusive, off-topic, duplicate…):
	// unlike the committee's StatusRejected it hides the proposal from
	// everyone but its author and the moderators. It carries a Moderation.
	StatusRefused Status = "refused"
)

// Statuses lists every status, in workflow order, the moderation refusal last.
var Statuses = []Status{StatusSubmitted, StatusPublished, StatusShortlisted, StatusUnderReview,
	StatusSelected, StatusRejected, StatusInProgress, StatusRealized, StatusRefused}

// Transition is one allowed status change and the roles that may make it.
type Transition struct {
	From, To Status
	Roles    []Role
}

// Transitions is the proposal workflow: submitted → published (moderation) →
// shortlisted → under_review → selected | rejected(reason) → in_progress →
// realized. Moderators (administrators) refuse a proposal at submission, or
// once published when its content is found abusive later: refused hides it
// (Public is false) and needs a Moderation. A rejection is a public decision
// with a public reason: the committee's after review, or an administrator's
// of a published proposal (outside the département's remit, say); it is
// never a way to moderate, and a submitted proposal cannot be rejected
// (it would be published by it).
var Transitions = []Transition{
	{StatusSubmitted, StatusPublished, []Role{RoleAdmin}},
	{StatusSubmitted, StatusRefused, []Role{RoleAdmin}},
	{StatusPublished, StatusShortlisted, []Role{RoleAdmin, RoleExpert}},
	{StatusPublished, StatusRejected, []Role{RoleAdmin}},
	{StatusPublished, StatusRefused, []Role{RoleAdmin}},
	{StatusShortlisted, StatusUnderReview, []Role{RoleAdmin, RoleExpert}},
	{StatusShortlisted, StatusRejected, []Role{RoleAdmin, RoleExpert}},
	{StatusUnderReview, StatusSelected, []Role{RoleAdmin, RoleExpert}},
	{StatusUnderReview, StatusRejected, []Role{RoleAdmin, RoleExpert}},
	{StatusSelected, StatusInProgress, []Role{RoleAdmin, RoleAgent}},
	{StatusInProgress, StatusRealized, []Role{RoleAdmin, RoleAgent}},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

// Public reports whether proposals in this status are visible to everyone:
// not while waiting for moderation (submitted) nor once refused by it. The
// others are seen by their author and the moderators only, and nowhere
// else (lists, open data, missions, votes, comments).
func (s Status) Public() bool { return s.Valid() && s != StatusSubmitted && s != StatusRefused }

// PublicStatuses lists the statuses for which Public is true.
func PublicStatuses() []Status {
	var out []Status
	for _, s := range Statuses {
		if s.Public() {
			out = append(out, s)
		}
	}
	return out
}

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
	// Moderation says why a refused proposal was refused (status refused
	// only); like the proposal, only its author and the moderators see it.
	Moderation *Moderation `json:"moderation,omitempty"`
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
	Reason     string    `json:"reason,omitempty"` // a rejection's public reason, a refusal's note
	At         time.Time `json:"at"`
	// ReasonCode is a moderation refusal's reason.
	ReasonCode ModerationReason `json:"reason_code,omitempty"`
}

// CommentStatus is a comment's moderation state.
type CommentStatus string

// Comment moderation states: new comments wait for a moderator, who
// approves them (public) or hides them with a Moderation (seen by their
// author and the moderators only).
const (
	CommentPending  CommentStatus = "pending"
	CommentApproved CommentStatus = "approved"
	CommentHidden   CommentStatus = "hidden"
)

// CommentStatuses lists every comment state.
var CommentStatuses = []CommentStatus{CommentPending, CommentApproved, CommentHidden}

// Comment is a remark on a proposal.
type Comment struct {
	ID         string        `json:"id"`
	ProposalID string        `json:"proposal_id"`
	AuthorID   string        `json:"author_id,omitempty"`
	Body       string        `json:"body"`
	Status     CommentStatus `json:"status"`
	Created    time.Time     `json:"created"`
	// Moderation says why a hidden comment was hidden (status hidden only).
	Moderation *Moderation `json:"moderation,omitempty"`
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
