package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Verified accounts and account security: e-mail verification by a
// single-use link, the identity assurance level routes require, password
// change and reset, address change, the list of one's sessions and their
// revocation. The workflows and the mail outbox are dashboards/actions; the pages
// are dashboards/pages (account.go, moncompte.go). See docs/api.md, "Verified accounts" and "Account
// security".

type verifyReq struct {
	Token string `json:"token"`
}

// verifyEmail is POST /api/v1/auth/verify: the token of a verification or
// address-change link.
func (s *Server) verifyEmail(c *fiber.Ctx) error {
	var r verifyReq
	if err := decode(c, &r); err != nil {
		return err
	}
	u, _, err := s.act.ConfirmLink(c, r.Token)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type mailQueued struct {
	// To is where the mail goes (the caller's own address).
	To string `json:"to"`
}

func (s *Server) resendVerification(c *fiber.Ctx) error {
	to, err := s.act.SendVerification(c)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(mailQueued{To: to})
}

type forgotResp struct {
	Status string `json:"status"`
}

func (s *Server) forgotPassword(c *fiber.Ctx) error {
	var r actions.ForgotReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.act.RequestReset(c, r.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(forgotResp{Status: actions.ForgotAnswer})
}

type resetReq struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (s *Server) resetPassword(c *fiber.Ctx) error {
	var r resetReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.act.ApplyReset(c, r.Token, r.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type passwordReq struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

type sessionsEnded struct {
	SessionsEnded int `json:"sessions_ended"`
}

func (s *Server) changePasswordJSON(c *fiber.Ctx) error {
	var r passwordReq
	if err := decode(c, &r); err != nil {
		return err
	}
	n, err := s.act.ChangePassword(c, r.CurrentPassword, r.NewPassword)
	if err != nil {
		return err
	}
	return c.JSON(sessionsEnded{SessionsEnded: n})
}

type emailReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type emailPending struct {
	// PendingEmail replaces the address once the link sent to it is followed.
	PendingEmail string `json:"pending_email"`
}

func (s *Server) changeEmailJSON(c *fiber.Ctx) error {
	var r emailReq
	if err := decode(c, &r); err != nil {
		return err
	}
	to, err := s.act.RequestEmailChange(c, r.Email, r.Password)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(emailPending{PendingEmail: to})
}

func (s *Server) mySessions(c *fiber.Ctx) error {
	vs, err := s.act.SessionViews(c)
	if err != nil {
		return err
	}
	return c.JSON(vs)
}

func (s *Server) revokeSessionJSON(c *fiber.Ctx) error {
	if _, err := s.act.RevokeSession(c, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) signOutEverywhereJSON(c *fiber.Ctx) error {
	n, err := s.act.SignOutEverywhere(c)
	if err != nil {
		return err
	}
	return c.JSON(sessionsEnded{SessionsEnded: n})
}

type assuranceReq struct {
	Level  civic.Assurance `json:"level"`
	Method string          `json:"method"`
}

// setAssurance is an administrator recording a stronger identity check
// made by other means (documents seen at a town hall): the level and how.
func (s *Server) setAssurance(c *fiber.Ctx) error {
	var r assuranceReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.store.SetAssurance(ctx(c), web.Caller(c).User.ID, c.Params("id"), r.Level, r.Method); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// accountRoutes are the routes of account security, appended to the table.
func (s *Server) accountRoutes() []*web.Route {
	const v1 = "/api/v1"
	return []*web.Route{
		{Method: "POST", Path: v1 + "/auth/verify", Tag: "auth", Summary: "Follow a verification or address-change link: the token it carries (single use)", Body: verifyReq{}, Response: civic.User{}, Handler: s.verifyEmail},
		{Method: "POST", Path: v1 + "/me/verification", Tag: "auth", Summary: "Send a new verification link to my address (limited per account)", Access: web.SignedIn, Status: 202, Response: mailQueued{}, Handler: s.resendVerification},
		{Method: "POST", Path: v1 + "/auth/password/forgot", Tag: "auth", Summary: "Send a password-reset link; the answer is the same whether or not the address has an account", Body: actions.ForgotReq{}, Response: forgotResp{}, Status: 202, Limit: "signin", Handler: s.forgotPassword},
		{Method: "POST", Path: v1 + "/auth/password/reset", Tag: "auth", Summary: "Set a new password with a reset link's token: every session of the account ends", Body: resetReq{}, Status: 204, Limit: "signin", Handler: s.resetPassword},
		{Method: "PUT", Path: v1 + "/me/password", Tag: "auth", Summary: "Change my password (needs the current one): every other session ends", Access: web.SignedIn, Body: passwordReq{}, Response: sessionsEnded{}, Handler: s.changePasswordJSON},
		{Method: "PUT", Path: v1 + "/me/email", Tag: "auth", Summary: "Change my address (needs the password): it changes once the link sent to the new address is followed; the old one gets a notice", Access: web.SignedIn, Body: emailReq{}, Response: emailPending{}, Status: 202, Handler: s.changeEmailJSON},
		{Method: "GET", Path: v1 + "/me/sessions", Tag: "auth", Summary: "My sessions (browser and API), without their tokens", Access: web.SignedIn, Response: []civic.SessionView{}, Handler: s.mySessions},
		{Method: "DELETE", Path: v1 + "/me/sessions", Tag: "auth", Summary: "Sign out everywhere: end every session of my account, this one included", Access: web.SignedIn, Response: sessionsEnded{}, Handler: s.signOutEverywhereJSON},
		{Method: "DELETE", Path: v1 + "/me/sessions/:id", Tag: "auth", Summary: "End one of my sessions", Access: web.SignedIn, Status: 204, Handler: s.revokeSessionJSON},
		{Method: "PUT", Path: v1 + "/users/:id/assurance", Tag: "auth", Summary: "Record a stronger identity check of an account (level 2–3 and the method; 0 withdraws it)", Access: web.SignedIn, Roles: web.Admins, Body: assuranceReq{}, Status: 204, Handler: s.setAssurance},
	}
}

func (s *Server) signUp(c *fiber.Ctx) error {
	var r actions.SignUpReq
	if err := decode(c, &r); err != nil {
		return err
	}
	u, err := s.act.CreateCitizen(c, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

type signInReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Cookie asks for a browser session (cookie + CSRF token) instead of a bearer token.
	Cookie bool `json:"cookie"`
}

func (s *Server) signIn(c *fiber.Ctx) error {
	var r signInReq
	if err := decode(c, &r); err != nil {
		return err
	}
	u, err := s.act.CheckPassword(c, r.Email, r.Password)
	if err != nil {
		return err
	}
	resp, err := s.act.StartSession(c, u, r.Cookie)
	if err != nil {
		return err
	}
	return c.JSON(resp)
}

func (s *Server) signOut(c *fiber.Ctx) error {
	if err := s.act.EndSession(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error { return c.JSON(web.Caller(c).User) }

func (s *Server) exportMe(c *fiber.Ctx) error {
	u := web.Caller(c).User
	ex, err := s.store.ExportUser(ctx(c), u.ID)
	if err != nil {
		return err
	}
	prefs, err := s.store.NotificationPrefs(ctx(c), u.ID)
	if err != nil {
		return err
	}
	if ex.Extra == nil {
		ex.Extra = map[string]any{}
	}
	ex.Extra["notification_prefs"] = prefs
	flags, err := s.store.UserFlags(ctx(c), u.ID) // the flags they gave (the back office)
	if err != nil {
		return err
	}
	ex.Extra["flags"] = flags
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "gdpr.export", Target: u.ID})
	// A download (the link of /compte works with the session cookie: a
	// GET needs no CSRF token, and another site can start the download
	// but never read it), never kept by a cache.
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="smartdeal-export.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.JSON(ex)
}

func (s *Server) deleteMe(c *fiber.Ctx) error {
	if err := s.act.EraseAccount(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

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
