package api

import (
	"strconv"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) comments(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	offset, err := intQuery(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	cs, err := s.store.Comments(ctx(c), p.ID, web.Caller(c) != nil)
	if err != nil {
		return err
	}
	cs = seenComments(c, cs)
	// Oldest first; X-Total-Count lets a client page through them.
	c.Set("X-Total-Count", strconv.Itoa(len(cs)))
	cs = cs[min(offset, len(cs)):min(offset+limit, len(cs))]
	return c.JSON(cs)
}

type commentReq struct {
	Body string `json:"body"`
}

func (s *Server) addComment(c *fiber.Ctx) error {
	var r commentReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cm, err := s.act.PostComment(c, c.Params("id"), r.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cm)
}

type moderateReq struct {
	Status civic.CommentStatus `json:"status"`
	// ReasonCode (required for hidden, and only then): abusive, off_topic,
	// duplicate or other.
	ReasonCode civic.ModerationReason `json:"reason_code,omitempty"`
	// Note (optional, hidden only) is the moderator's word to the author.
	Note string `json:"note,omitempty"`
}

func (s *Server) moderate(c *fiber.Ctx) error {
	var r moderateReq
	if err := decode(c, &r); err != nil {
		return err
	}
	var cm *civic.Comment
	var err error
	switch {
	case r.Status == civic.CommentHidden:
		cm, err = s.store.HideComment(ctx(c), c.Params("id"), civic.Moderation{Reason: r.ReasonCode, Note: r.Note}, web.Caller(c).User.ID)
	case r.ReasonCode != "":
		err = civic.FieldError("reason_code", "only to hide a comment (status hidden)")
	case r.Note != "":
		err = civic.FieldError("note", "only to hide a comment (status hidden)")
	default:
		cm, err = s.store.ModerateComment(ctx(c), c.Params("id"), r.Status, web.Caller(c).User.ID)
	}
	if err != nil {
		return err
	}
	return c.JSON(cm)
}

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
