package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// eventsRoutes are the events' JSON routes (meetings with field actors,
// public events, workshops); the agenda pages and the iCalendar feeds are
// the pages' (/agenda, /agenda.ics). Both call actions.Events.
func (s *Server) eventsRoutes() []*web.Route {
	const v1 = "/api/v1"
	campaign := web.Q("campaign", "string", "campaign id")
	return []*web.Route{
		{Method: "GET", Path: v1 + "/events", Tag: "events", Summary: "Events by start time (at most 500), with their proposal ids and registration count", Params: []web.Param{campaign, web.Q("proposal", "string", "proposal id"), web.Q("upcoming", "boolean", "only those not ended yet")}, Response: []civic.Event{}, Handler: s.listEvents},
		{Method: "POST", Path: v1 + "/events", Tag: "events", Summary: "Create an event: kind meeting, public or workshop; place and/or location, or online_url; campaign and proposals; capacity (0: no registration)", Access: web.SignedIn, Roles: web.Admins, Body: civic.Event{}, Response: civic.Event{}, Status: 201, Handler: s.createEvent},
		{Method: "GET", Path: v1 + "/events/:id", Tag: "events", Summary: "An event", Response: civic.Event{}, Handler: s.event},
		{Method: "PUT", Path: v1 + "/events/:id/minutes", Tag: "events", Summary: "Record an event's minutes or outcome (text)", Access: web.SignedIn, Roles: web.Admins, Body: minutesReq{}, Response: civic.Event{}, Handler: s.eventMinutes},
		{Method: "POST", Path: v1 + "/events/:id/registration", Tag: "events", Summary: "Register for an event (citizens; within its capacity, before its end; twice is once)", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Response: civic.Event{}, Handler: s.registerEvent},
		{Method: "DELETE", Path: v1 + "/events/:id/registration", Tag: "events", Summary: "Withdraw my registration", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Response: civic.Event{}, Handler: s.unregisterEvent},
	}
}

type minutesReq struct {
	Minutes string `json:"minutes"`
}

func (s *Server) listEvents(c *fiber.Ctx) error {
	campaign, proposal := c.Query("campaign"), c.Query("proposal")
	if (campaign != "" && !smartdeal.ValidID(campaign)) || (proposal != "" && !smartdeal.ValidID(proposal)) {
		return civic.FieldError("campaign", "invalid identifier")
	}
	var after time.Time
	if c.Query("upcoming") == "true" {
		after = s.now()
	}
	es, err := s.events.Store.Events(ctx(c), campaign, proposal, after)
	if err != nil {
		return err
	}
	return c.JSON(es)
}

func (s *Server) createEvent(c *fiber.Ctx) error {
	var e civic.Event
	if err := decode(c, &e); err != nil {
		return err
	}
	out, err := s.events.Create(ctx(c), web.Caller(c).User.ID, &e)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) event(c *fiber.Ctx) error {
	e, err := s.events.Store.Event(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (s *Server) eventMinutes(c *fiber.Ctx) error {
	var r minutesReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.events.Store.SetEventMinutes(ctx(c), c.Params("id"), r.Minutes, web.Caller(c).User.ID); err != nil {
		return err
	}
	return s.event(c)
}

func (s *Server) registerEvent(c *fiber.Ctx) error {
	e, err := s.events.Register(ctx(c), web.Caller(c).User.ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (s *Server) unregisterEvent(c *fiber.Ctx) error {
	e, err := s.events.Unregister(ctx(c), web.Caller(c).User.ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}
