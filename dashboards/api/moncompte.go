package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The JSON side of "Mon compte": my activity and my e-mail preferences.
// The pages (pages_moncompte.go) go through the same functions.

func (s *Server) myNotifications(c *fiber.Ctx) error {
	p, err := s.store.NotificationPrefs(ctx(c), web.Caller(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) putMyNotifications(c *fiber.Ctx) error {
	var r actions.NotificationsReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.act.SetNotifications(c, r, "api")
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) myActivity(c *fiber.Ctx) error {
	a, err := s.store.Activity(ctx(c), web.Caller(c).User.ID, s.now())
	if err != nil {
		return err
	}
	return c.JSON(a)
}
