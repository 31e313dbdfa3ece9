package actions

import (
	"strconv"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

type ProposalReq struct {
	CampaignID       string       `json:"campaign_id"`
	ThemeID          string       `json:"theme_id"`
	Title            string       `json:"title"`
	Body             string       `json:"body"`
	Location         *civic.Point `json:"location,omitempty"`
	EstimatedCostEUR int64        `json:"estimated_cost_eur"`
}

// submitProposal stores the caller's proposal, submitted for moderation (the
// store validates it and records the first history entry); the JSON route
// and the proposal form share it.
func (s *Service) SubmitProposal(c *fiber.Ctx, r ProposalReq) (*civic.Proposal, error) {
	// A proposal goes into a running campaign: a call for citizen ideas takes
	// them from citizens (and administrators); a call for digital projects
	// is answered by organisations, whose projects an administrator enters.
	if r.CampaignID != "" {
		cp, err := s.store.Campaign(ctx(c), r.CampaignID)
		if civic.ErrorCode(err) == civic.ENOTFOUND {
			return nil, civic.FieldError("campaign_id", "unknown campaign")
		}
		if err != nil {
			return nil, err
		}
		if err := cp.CheckSubmission(web.Caller(c).User.Role, s.now()); err != nil {
			return nil, err
		}
	}
	p := &civic.Proposal{CampaignID: r.CampaignID, ThemeID: r.ThemeID, Title: r.Title, Body: r.Body, Location: r.Location,
		EstimatedCostEUR: r.EstimatedCostEUR, AuthorID: web.Caller(c).User.ID, Created: s.now()}
	if err := s.store.CreateProposal(ctx(c), p); err != nil {
		return nil, err
	}
	return p, nil
}

type StatusReq struct {
	Status civic.Status `json:"status"`
	// Reason is a rejection's public reason (required for rejected).
	Reason string `json:"reason,omitempty"`
	// ReasonCode (required for refused, and only then) is the moderation
	// refusal's reason: abusive, off_topic, duplicate or other.
	ReasonCode civic.ModerationReason `json:"reason_code,omitempty"`
	// Note (optional, refused only) is the moderator's word to the author.
	Note string `json:"note,omitempty"`
}

// changeStatus takes one workflow step for the caller (the store checks the
// transition, the rejection reason and, for a selection, the budget); the
// JSON route and the committee's decision form share it.
func (s *Service) ChangeStatus(c *fiber.Ctx, proposalID string, r StatusReq) (*civic.Proposal, error) {
	// A proposal the caller may not see (an expert, an agent and one that is
	// not public) is unknown to them: neither 403 nor 409 tells it exists.
	if _, err := s.ProposalFor(c, proposalID); err != nil {
		return nil, err
	}
	if r.Status == civic.StatusRefused {
		if r.Reason != "" {
			return nil, civic.FieldError("reason", "a moderation refusal takes reason_code and an optional note")
		}
		return s.store.RefuseProposal(ctx(c), proposalID, web.Caller(c).User, civic.Moderation{Reason: r.ReasonCode, Note: r.Note}, s.now())
	}
	if r.ReasonCode != "" {
		return nil, civic.FieldError("reason_code", "only for a moderation refusal (status refused)")
	}
	if r.Note != "" {
		return nil, civic.FieldError("note", "only for a moderation refusal (status refused)")
	}
	p, err := s.store.SetStatus(ctx(c), proposalID, r.Status, web.Caller(c).User, r.Reason, s.now())
	if err != nil {
		return nil, err
	}
	s.StatusChanged(c, p.ID, r.Status, r.Reason) // committed: the mails are queued, sent later
	return p, nil
}

type VoteResp struct {
	Voted bool `json:"voted"`
	Votes int  `json:"votes"`
}

// castVote adds (or with withdraw removes) the caller's support; the JSON
// routes and the support form share it. Voting on a proposal the caller may
// not see is a 404, as if it did not exist.
func (s *Service) CastVote(c *fiber.Ctx, proposalID string, withdraw bool) (VoteResp, error) {
	userID := web.Caller(c).User.ID
	if withdraw {
		_, n, err := s.store.Unvote(ctx(c), proposalID, userID, s.now())
		if err != nil {
			return VoteResp{}, s.HideUnseen(c, proposalID, err)
		}
		return VoteResp{Voted: false, Votes: n}, nil
	}
	added, n, err := s.store.Vote(ctx(c), proposalID, userID, s.now())
	if err != nil {
		return VoteResp{}, s.HideUnseen(c, proposalID, err)
	}
	if added {
		s.kit.Metrics().Votes.Inc()
	}
	return VoteResp{Voted: true, Votes: n}, nil
}

// postComment stores the caller's comment, pending moderation, on a public
// proposal: ECONFLICT on one that is not public, for its author and the
// moderators; ENOTFOUND for whoever may not see it. The JSON route and the
// comment form share it.
func (s *Service) PostComment(c *fiber.Ctx, proposalID, body string) (*civic.Comment, error) {
	cm := &civic.Comment{ProposalID: proposalID, AuthorID: web.Caller(c).User.ID, Body: body, Created: s.now()}
	if err := s.store.AddComment(ctx(c), cm); err != nil {
		return nil, s.HideUnseen(c, proposalID, err)
	}
	return cm, nil
}

type ReviewReq struct {
	Impact      int    `json:"impact"`
	Feasibility int    `json:"feasibility"`
	Cost        int    `json:"cost"`
	Comment     string `json:"comment"`
}

// putReview stores the caller's review (a new one replaces theirs); the
// JSON route and the review form share it.
func (s *Service) PutReview(c *fiber.Ctx, proposalID string, r ReviewReq) (*civic.Review, error) {
	rv := &civic.Review{ProposalID: proposalID, ExpertID: web.Caller(c).User.ID, Impact: r.Impact, Feasibility: r.Feasibility, Cost: r.Cost, Comment: r.Comment,
		Created: s.now()}
	if err := s.store.PutReview(ctx(c), rv); err != nil {
		return nil, s.HideUnseen(c, proposalID, err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: rv.ExpertID, Action: "review.put", Target: proposalID,
		Detail: "impact=" + strconv.Itoa(rv.Impact) + " feasibility=" + strconv.Itoa(rv.Feasibility) + " cost=" + strconv.Itoa(rv.Cost)})
	return rv, nil
}

// proposalFor loads proposal id if the caller may see it; one they may not
// is ENOTFOUND with the store's words for an unknown id.
func (s *Service) ProposalFor(c *fiber.Ctx, id string) (*civic.Proposal, error) {
	p, err := s.store.Proposal(ctx(c), id)
	if err != nil {
		return nil, err
	}
	if !civic.CanSee(web.Viewer(c), p) {
		return nil, civic.Errorf(civic.ENOTFOUND, "proposal not found")
	}
	return p, nil
}

// unseen reports whether proposal id exists but the caller may not see it:
// the routes that name a proposal in their body or query then answer as for
// an unknown id.
func (s *Service) Unseen(c *fiber.Ctx, id string) (bool, error) {
	p, err := s.store.Proposal(ctx(c), id)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !civic.CanSee(web.Viewer(c), p), nil
}

// hideUnseen turns a refusal (ECONFLICT: voting closed, not published) about
// a proposal the caller may not see into the 404 of an unknown one, so that
// a vote or a comment cannot tell a hidden proposal exists. The check costs
// a query only when the store refused.
func (s *Service) HideUnseen(c *fiber.Ctx, proposalID string, err error) error {
	if civic.ErrorCode(err) != civic.ECONFLICT {
		return err
	}
	if _, perr := s.ProposalFor(c, proposalID); perr != nil {
		return perr
	}
	return err
}
