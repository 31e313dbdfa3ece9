package api

import (
	"strings"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) links(c *fiber.Ctx) error {
	f := civic.LinkFilter{ProposalID: c.Query("proposal"), MissionID: c.Query("mission")}
	if f.ProposalID == "" && f.MissionID == "" {
		return civic.FieldError("proposal", "give proposal or mission")
	}
	if f.ProposalID != "" { // a proposal the caller may not see has no links, as an unknown one
		if hidden, err := s.act.Unseen(c, f.ProposalID); err != nil {
			return err
		} else if hidden {
			return c.JSON([]*civic.Link{})
		}
	}
	ls, err := s.store.Links(ctx(c), f)
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

func (s *Server) createLink(c *fiber.Ctx) error {
	var l civic.Link
	if err := decode(c, &l); err != nil {
		return err
	}
	l.SiteID, l.DeviceID = strings.TrimSpace(l.SiteID), strings.TrimSpace(l.DeviceID)
	if l.ProposalID != "" { // one the caller may not see is unknown, as the store says
		if hidden, err := s.act.Unseen(c, l.ProposalID); err != nil {
			return err
		} else if hidden {
			return civic.FieldError("proposal_id", "unknown proposal or mission")
		}
	}
	if err := s.store.CreateLink(ctx(c), &l); err != nil {
		return err
	}
	owner := "proposal:" + l.ProposalID
	if l.MissionID != "" {
		owner = "mission:" + l.MissionID
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "link.create", Target: l.ID,
		Detail: owner + " " + l.SiteID + "/" + l.DeviceID + "/" + l.Quantity})
	return c.Status(fiber.StatusCreated).JSON(l)
}

func (s *Server) deleteLink(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := s.store.DeleteLink(ctx(c), id); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "link.delete", Target: id})
	return c.SendStatus(fiber.StatusNoContent)
}
