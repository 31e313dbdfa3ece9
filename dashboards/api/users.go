package api

import (
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

type roleReq struct {
	Role civic.Role `json:"role"`
}

func (s *Server) setRole(c *fiber.Ctx) error {
	var r roleReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.store.SetUserRole(ctx(c), web.Caller(c).User.ID, c.Params("id"), r.Role); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) auditLog(c *fiber.Ctx) error {
	n, err := intQuery(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	es, err := s.store.AuditLog(ctx(c), n)
	if err != nil {
		return err
	}
	return c.JSON(es)
}
