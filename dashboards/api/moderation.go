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

// seenComments keeps the comments the caller may read (civic.CanSeeComment):
// approved ones, the caller's own whatever their state (a hidden one with
// its moderation), and for the moderators all of them.
func seenComments(c *fiber.Ctx, cs []*civic.Comment) []*civic.Comment {
	u := web.Viewer(c)
	out := make([]*civic.Comment, 0, len(cs))
	for _, cm := range cs {
		if civic.CanSeeComment(u, cm) {
			out = append(out, cm)
		}
	}
	return out
}
