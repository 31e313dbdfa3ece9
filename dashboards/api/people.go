package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The back office's people: search accounts, one account with its
// activity, block or unblock it, and the audit log searched. Roles change
// with PUT /api/v1/users/{id}/role (users.go).

func (s *Server) peopleRoutes() []*web.Route {
	const v1 = "/api/v1"
	return []*web.Route{
		{Method: "GET", Path: v1 + "/users", Tag: "auth", Summary: "Search accounts by name or e-mail address (plain text, case insensitive), role and block, newest first, with their activity counts", Access: web.SignedIn, Roles: web.Admins,
			Params: []web.Param{web.Q("q", "string", "part of the name or address (≤ 100 characters)"), web.Q("role", "string", "role"), web.Q("blocked", "boolean", "true: blocked accounts only; false: the others"),
				web.Q("limit", "integer", "page size (default 50, at most 200)"), web.Q("offset", "integer", "accounts to skip")}, Response: []civic.Person{}, Handler: s.people},
		{Method: "GET", Path: v1 + "/users/:id", Tag: "auth", Summary: "An account with its activity counts and block", Access: web.SignedIn, Roles: web.Admins, Response: civic.Person{}, Handler: s.person},
		{Method: "PUT", Path: v1 + "/users/:id/block", Tag: "auth", Summary: "Block an account (a reason required: it can no longer sign in, its sessions are revoked) or unblock it; never one's own, nor the last administrator (409)", Access: web.SignedIn, Roles: web.Admins, Body: actions.BlockReq{}, Response: civic.Person{}, Handler: s.block},
		{Method: "GET", Path: v1 + "/audit/search", Tag: "auth", Summary: "The audit log filtered by actor (user id), action (exact, or a prefix ending in a dot such as user.) and dates, newest first", Access: web.SignedIn, Roles: web.Admins,
			Params: []web.Param{web.Q("actor", "string", "the actor's user id"), web.Q("action", "string", "action, or prefix ending in ."), web.Q("from", "string", "RFC 3339 or YYYY-MM-DD (inclusive)"),
				web.Q("to", "string", "RFC 3339 or YYYY-MM-DD (exclusive; a date: through that day)"), web.Q("limit", "integer", "entries (default 100, at most 1000)")}, Response: []civic.AuditEntry{}, Handler: s.searchAudit},
	}
}

func (s *Server) people(c *fiber.Ctx) error {
	limit, err := intQuery(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	offset, err := intQuery(c, "offset", 0, 0, 1_000_000)
	if err != nil {
		return err
	}
	f := civic.UserFilter{Query: c.Query("q"), Role: civic.Role(c.Query("role")), Limit: limit, Offset: offset}
	switch c.Query("blocked") {
	case "":
	case "true":
		f.Blocked = new(bool)
		*f.Blocked = true
	case "false":
		f.Blocked = new(bool)
	default:
		return civic.FieldError("blocked", "want true or false")
	}
	ps, err := s.store.People(ctx(c), f)
	if err != nil {
		return err
	}
	return c.JSON(ps)
}

func (s *Server) person(c *fiber.Ctx) error {
	p, err := s.store.Person(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) block(c *fiber.Ctx) error {
	var r actions.BlockReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.act.Block(c, c.Params("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) searchAudit(c *fiber.Ctx) error {
	limit, err := intQuery(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	from, err := civic.ParseFilterTime(c.Query("from"), "from", false)
	if err != nil {
		return err
	}
	to, err := civic.ParseFilterTime(c.Query("to"), "to", true)
	if err != nil {
		return err
	}
	es, err := s.store.SearchAudit(ctx(c), civic.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), From: from, To: to, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(es)
}
