package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The moderation queue's JSON routes: flags by signed-in citizens, the
// queue, the decisions and their history (dashboards/actions/moderation.go,
// shared with the back office's pages under /admin).

func (s *Server) moderationRoutes() []*web.Route {
	const v1 = "/api/v1"
	lim := web.Q("limit", "integer", "entries (default 100, at most 500)")
	return []*web.Route{
		{Method: "POST", Path: v1 + "/ideas/:id/flag", Tag: "moderation", Summary: "Flag a public proposal for the moderators, with a reason code (abusive, off_topic, duplicate, other) and a note; once per person (409), not one's own (403)", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: actions.FlagReq{}, Response: civic.Flag{}, Status: 201, Limit: "contribution", Handler: s.flagHandler(civic.TargetProposal)},
		{Method: "POST", Path: v1 + "/comments/:id/flag", Tag: "moderation", Summary: "Flag an approved comment for the moderators, like POST /api/v1/ideas/{id}/flag", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: actions.FlagReq{}, Response: civic.Flag{}, Status: 201, Limit: "contribution", Handler: s.flagHandler(civic.TargetComment)},
		{Method: "GET", Path: v1 + "/moderation/queue", Tag: "moderation", Summary: "The moderation queue: submitted proposals, pending comments and flagged public items, the most flagged first, then the oldest", Access: web.SignedIn, Roles: web.Admins, Params: []web.Param{lim}, Response: []civic.QueueItem{}, Handler: s.moderationQueue},
		{Method: "GET", Path: v1 + "/moderation/history", Tag: "moderation", Summary: "The moderation decisions, newest first", Access: web.SignedIn, Roles: web.Admins, Params: []web.Param{lim}, Response: []civic.ModerationDecision{}, Handler: s.moderationHistory},
		{Method: "POST", Path: v1 + "/moderation/:kind/:id/decision", Tag: "moderation", Summary: "Decide on an item of the queue (kind proposal or comment): approve, keep (a flagged public item) or refuse with a reason_code and note, mailed to the author; the decision closes the item's flags", Access: web.SignedIn, Roles: web.Admins, Body: actions.DecideReq{}, Status: 204, Handler: s.decide},
	}
}

func (s *Server) flagHandler(kind civic.TargetKind) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var r actions.FlagReq
		if err := decode(c, &r); err != nil {
			return err
		}
		f, err := s.act.Flag(c, kind, c.Params("id"), r)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(f)
	}
}

func (s *Server) moderationQueue(c *fiber.Ctx) error {
	limit, err := intQuery(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	q, err := s.store.ModerationQueue(ctx(c), limit)
	if err != nil {
		return err
	}
	return c.JSON(q)
}

func (s *Server) moderationHistory(c *fiber.Ctx) error {
	limit, err := intQuery(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	h, err := s.store.ModerationHistory(ctx(c), limit)
	if err != nil {
		return err
	}
	return c.JSON(h)
}

func (s *Server) decide(c *fiber.Ctx) error {
	var r actions.DecideReq
	if err := decode(c, &r); err != nil {
		return err
	}
	kind := civic.TargetKind(c.Params("kind"))
	if !kind.Valid() {
		return civic.Errorf(civic.ENOTFOUND, "unknown kind of content")
	}
	if err := s.act.Decide(c, kind, c.Params("id"), r); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
