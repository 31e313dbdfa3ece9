package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Moderation that hides. A proposal that is not public (civic.Status.Public:
// submitted, or refused at moderation) and a hidden comment are seen by their
// author and the moderators (administrators) only. Everyone else is answered
// as if they did not exist: 404 on the proposal's routes (page, JSON, history,
// comments, nearby, evidence, review page), on a vote or a comment posted to
// it, absent from lists, open data and counts, and their ids left out of the
// missions that serve them.

// moderationReasonFR names the moderation reasons as authors read them.
var moderationReasonFR = map[civic.ModerationReason]string{
	civic.ReasonAbusive: "contenu abusif", civic.ReasonOffTopic: "hors sujet",
	civic.ReasonDuplicate: "doublon", civic.ReasonOther: "autre motif",
}

// viewer is the signed-in caller's account, nil for an anonymous visitor:
// whom civic's visibility rules ask about.
func viewer(c *fiber.Ctx) *civic.User {
	if p := web.Caller(c); p != nil {
		return p.User
	}
	return nil
}

// canSee reports whether the caller may see p (civic.CanSee): everyone a
// public proposal; its author and the moderators one that is not.
func canSee(c *fiber.Ctx, p *civic.Proposal) bool { return civic.CanSee(viewer(c), p) }

// proposalFor loads proposal id if the caller may see it; one they may not
// is ENOTFOUND with the store's words for an unknown id.
func (s *Server) proposalFor(c *fiber.Ctx, id string) (*civic.Proposal, error) {
	p, err := s.store.Proposal(ctx(c), id)
	if err != nil {
		return nil, err
	}
	if !canSee(c, p) {
		return nil, civic.Errorf(civic.ENOTFOUND, "proposal not found")
	}
	return p, nil
}

// unseen reports whether proposal id exists but the caller may not see it:
// the routes that name a proposal in their body or query then answer as for
// an unknown id.
func (s *Server) unseen(c *fiber.Ctx, id string) (bool, error) {
	p, err := s.store.Proposal(ctx(c), id)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !canSee(c, p), nil
}

// hideUnseen turns a refusal (ECONFLICT: voting closed, not published) about
// a proposal the caller may not see into the 404 of an unknown one, so that
// a vote or a comment cannot tell a hidden proposal exists. The check costs
// a query only when the store refused.
func (s *Server) hideUnseen(c *fiber.Ctx, proposalID string, err error) error {
	if civic.ErrorCode(err) != civic.ECONFLICT {
		return err
	}
	if _, perr := s.proposalFor(c, proposalID); perr != nil {
		return perr
	}
	return err
}

// seenComments keeps the comments the caller may read (civic.CanSeeComment):
// approved ones, the caller's own whatever their state (a hidden one with
// its moderation), and for the moderators all of them.
func seenComments(c *fiber.Ctx, cs []*civic.Comment) []*civic.Comment {
	u := viewer(c)
	out := make([]*civic.Comment, 0, len(cs))
	for _, cm := range cs {
		if civic.CanSeeComment(u, cm) {
			out = append(out, cm)
		}
	}
	return out
}
