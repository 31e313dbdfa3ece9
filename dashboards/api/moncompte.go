package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The JSON side of "Mon compte": my activity and my e-mail preferences.
// The pages (pages_moncompte.go) go through the same functions.

type notificationsReq struct {
	// OwnProposals: mail me when a proposal I wrote changes status.
	OwnProposals bool `json:"own_proposals"`
	// SupportedProposals: mail me when a proposal I support changes status.
	SupportedProposals bool `json:"supported_proposals"`
}

func (s *Server) myNotifications(c *fiber.Ctx) error {
	p, err := s.store.NotificationPrefs(ctx(c), web.Caller(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) putMyNotifications(c *fiber.Ctx) error {
	var r notificationsReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.setNotifications(c, r, "api")
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// setNotifications stores the caller's consent to status e-mails (the JSON
// route and the form of /compte).
func (s *Server) setNotifications(c *fiber.Ctx, r notificationsReq, source string) (*civic.NotificationPrefs, error) {
	return s.store.SetNotificationPrefs(ctx(c), web.Caller(c).User.ID, r.OwnProposals, r.SupportedProposals, source, s.now())
}

func (s *Server) myActivity(c *fiber.Ctx) error {
	a, err := s.store.Activity(ctx(c), web.Caller(c).User.ID, s.now())
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// eraseAccount deletes the caller's account through the store's one erasure
// path (DELETE /api/v1/me and the page /compte/suppression) and expires the
// session cookie.
func (s *Server) eraseAccount(c *fiber.Ctx) error {
	if err := s.store.DeleteUser(ctx(c), web.Caller(c).User.ID, s.now()); err != nil {
		return err
	}
	s.kit.ClearCookie(c, web.SessionCookie)
	return nil
}
