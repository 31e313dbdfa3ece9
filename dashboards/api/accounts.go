package api

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Verified accounts and account security: e-mail verification by a
// single-use link, the identity assurance level routes require, password
// change and reset, address change, the list of one's sessions and their
// revocation. Mail goes through the outbox (outbox.go); pages are in
// pages_account.go. See docs/api.md, "Verified accounts" and "Account
// security".

// AccountConfig tunes account security. Zero values take the defaults.
type AccountConfig struct {
	// BearerTTL is how long a bearer token (API clients) lasts (optional)
	// defaults to 24 hours; browser sessions last Config.SessionTTL.
	BearerTTL time.Duration
	// VerifyTTL is how long a verification or address-change link works
	// (optional) defaults to 48 hours.
	VerifyTTL time.Duration
	// ResetTTL is how long a password-reset link works (optional) defaults
	// to 1 hour.
	ResetTTL time.Duration
	// SupportAssurance is the identity assurance level supporting a proposal
	// needs (optional) defaults to civic.AssuranceEmail (a verified
	// address); 2 or 3 need a stronger check (Verifier, or an administrator).
	SupportAssurance civic.Assurance
	// MailLimit caps the mails one account or one address can cause per
	// MailWindow — verification links asked again, reset links, address
	// changes (optional) defaults to 3 per hour; negative disables.
	MailLimit  int
	MailWindow time.Duration
	// Outbox tunes the mail worker.
	Outbox OutboxConfig
}

func (a *AccountConfig) validate() error {
	dur := func(v *time.Duration, def, minV time.Duration, key string) error {
		if *v == 0 {
			*v = def
		}
		if *v < minV {
			return fmt.Errorf("%s: at least %s", key, minV)
		}
		return nil
	}
	if err := dur(&a.BearerTTL, 24*time.Hour, time.Minute, "api.bearer_ttl"); err != nil {
		return err
	}
	if err := dur(&a.VerifyTTL, 48*time.Hour, 10*time.Minute, "api.verify_ttl"); err != nil {
		return err
	}
	if err := dur(&a.ResetTTL, time.Hour, 5*time.Minute, "api.reset_ttl"); err != nil {
		return err
	}
	if a.ResetTTL > 24*time.Hour {
		return errors.New("api.reset_ttl: at most 24h (a reset link is a password)")
	}
	if a.SupportAssurance == 0 {
		a.SupportAssurance = civic.AssuranceEmail
	}
	if a.SupportAssurance < civic.AssuranceEmail || a.SupportAssurance > civic.AssuranceMax {
		return fmt.Errorf("api.support_assurance: want between %d and %d", civic.AssuranceEmail, civic.AssuranceMax)
	}
	if a.MailLimit == 0 {
		a.MailLimit = 3
	}
	if err := dur(&a.MailWindow, time.Hour, time.Second, "api.mail_window"); err != nil {
		return err
	}
	return a.Outbox.validate()
}

// Verifier is a stronger identity check than the e-mail link, which an
// operator adds: FranceConnect, a proof of residency, a visit to a town
// hall. The account security page offers each one to signed-in accounts
// whose level is below the Verifier's; the check runs on the Verifier's
// own routes (an OpenID Connect flow, an upload form), outside this
// package, and on success calls Server.GrantAssurance. Supports require a
// level through AccountConfig.SupportAssurance. Without a Verifier, an
// administrator records a check made by other means with
// PUT /api/v1/users/{id}/assurance.
type Verifier interface {
	// Method names the check in the audit log and on the account, e.g.
	// "franceconnect" (1 to 64 characters).
	Method() string
	// Label is its French name on the account page, e.g. "FranceConnect".
	Label() string
	// Level is what a successful check grants (civic.AssuranceStrong or more).
	Level() civic.Assurance
	// StartURL is where the account page sends the account to begin the
	// check (a same-site path or an https URL).
	StartURL(u *civic.User) string
}

// GrantAssurance records that v checked the identity of the account userID.
func (s *Server) GrantAssurance(ctx context.Context, userID string, v Verifier) error {
	return s.store.SetAssurance(ctx, "verifier:"+v.Method(), userID, v.Level(), v.Method())
}

// The password rule, one for sign-up, sign-in, change, reset and the
// bootstrap administrator: a password is counted in characters (Unicode
// code points, as people count them and as the pages say), between
// MinPasswordChars and MaxPasswordChars; argon2id then hashes its UTF-8
// bytes (at most 4 × 200). A password of 150 × "é" (300 bytes) or 200 emoji
// (800 bytes) is accepted everywhere alike.
const (
	MinPasswordChars = 10
	MaxPasswordChars = 200
)

// CheckNewPassword says whether pw may become a password; the error is a
// FieldError on field.
func CheckNewPassword(field, pw string) error {
	if !utf8.ValidString(pw) {
		return civic.FieldError(field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordChars || n > MaxPasswordChars {
		return civic.FieldError(field, "between %d and %d characters", MinPasswordChars, MaxPasswordChars)
	}
	return nil
}

// passwordTooLong: a sign-in with a password no account can have is
// refused without hashing it (each invalid byte counts as one character, so
// what passes is at most 800 bytes).
func passwordTooLong(pw string) bool { return utf8.RuneCountInString(pw) > MaxPasswordChars }

// checkEmail validates an address typed by someone, as sign-up does.
func checkEmail(field, email string) (string, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) || len(email) > 254 {
		return "", civic.FieldError(field, "not a valid e-mail address")
	}
	return strings.ToLower(addr.Address), nil
}

func (s *Server) mailQuota(c *fiber.Ctx, key string) error {
	return s.kit.Quota(c, "mail", key, s.cfg.Accounts.MailLimit, s.cfg.Accounts.MailWindow)
}

// passwordQuota bounds the current-password checks of one account (change
// of password or address) as sign-in bounds them per address.
func (s *Server) passwordQuota(c *fiber.Ctx, userID string) error {
	return s.kit.Quota(c, "password", "u:"+userID, s.cfg.SignInLimit, s.cfg.RateWindow)
}

// sessionTTL is a new session's lifetime by kind.
func (s *Server) sessionTTL(kind string) time.Duration {
	if kind == civic.SessionCookie {
		return s.cfg.SessionTTL
	}
	return s.cfg.Accounts.BearerTTL
}

// queueVerification queues the verification mail of a new account. A
// failure is logged, not returned: the account exists and the mail can be
// asked for again.
func (s *Server) queueVerification(c *fiber.Ctx, u *civic.User) {
	if err := s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: civic.MailVerify, UserID: u.ID, Recipient: u.Email}); err != nil {
		s.log.Error("verification mail not queued", "user", u.ID, "err", err)
	}
}

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
	u, _, err := s.confirmLink(c, r.Token)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// badToken is an ETOKEN for a token that cannot be one of ours.
func badToken() error {
	return &civic.Error{Code: civic.ETOKEN, Message: "unknown link", Extra: map[string]any{"reason": civic.TokenUnknown}}
}

func plausibleToken(tok string) bool { return tok != "" && len(tok) <= 128 }

// confirmLink uses a verification or address-change link (JSON route and
// the confirmation page).
func (s *Server) confirmLink(c *fiber.Ctx, tok string) (*civic.User, *civic.AccountToken, error) {
	if !plausibleToken(tok) {
		return nil, nil, badToken()
	}
	keep := ""
	if p := web.Caller(c); p != nil {
		keep = p.Session.TokenHash
	}
	u, t, err := s.store.ConfirmEmail(ctx(c), web.HashToken(tok), s.now(), keep)
	if err != nil {
		return nil, nil, err
	}
	return u, t, nil
}

type mailQueued struct {
	// To is where the mail goes (the caller's own address).
	To string `json:"to"`
}

func (s *Server) resendVerification(c *fiber.Ctx) error {
	to, err := s.sendVerification(c)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(mailQueued{To: to})
}

// sendVerification queues a new verification link for the caller.
func (s *Server) sendVerification(c *fiber.Ctx) (string, error) {
	u := web.Caller(c).User
	if u.EmailVerified != nil {
		return "", civic.Errorf(civic.ECONFLICT, "your address is already verified")
	}
	if err := s.mailQuota(c, "verify:u:"+u.ID); err != nil {
		return "", err
	}
	if err := s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: civic.MailVerify, UserID: u.ID, Recipient: u.Email}); err != nil {
		return "", err
	}
	return u.Email, nil
}

type forgotReq struct {
	Email string `json:"email"`
}

type forgotResp struct {
	Status string `json:"status"`
}

// forgotAnswer is the answer to every well-formed reset request: it never
// says whether the address has an account.
const forgotAnswer = "if an account has this address, a link to choose a new password was sent to it"

func (s *Server) forgotPassword(c *fiber.Ctx) error {
	var r forgotReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.requestReset(c, r.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(forgotResp{Status: forgotAnswer})
}

// requestReset queues a reset mail for an address, whether or not it has
// an account: the request does the same work either way (one row), and the
// outbox worker looks the account up and drops the mail when there is none.
// So neither the answer nor its timing tells whether the account exists.
func (s *Server) requestReset(c *fiber.Ctx, email string) error {
	addr, err := checkEmail("email", email)
	if err != nil {
		return err
	}
	if err := s.mailQuota(c, "reset:a:"+addr); err != nil {
		return err
	}
	return s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: civic.MailReset, Recipient: addr})
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
	if err := s.applyReset(c, r.Token, r.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// resetLink returns a usable reset link without using it.
func (s *Server) resetLink(c *fiber.Ctx, tok string) (*civic.AccountToken, error) {
	if !plausibleToken(tok) {
		return nil, badToken()
	}
	t, err := s.store.Token(ctx(c), web.HashToken(tok), s.now())
	if err != nil {
		return nil, err
	}
	if t.Purpose != civic.TokenReset {
		return nil, badToken()
	}
	return t, nil
}

// applyReset sets the new password of a reset link: every session of the
// account ends (the browser's too), and a notice goes to the address.
func (s *Server) applyReset(c *fiber.Ctx, tok, password string) error {
	if err := CheckNewPassword("password", password); err != nil {
		return err
	}
	// The cheap check first: an argon2id hash costs 19 MiB and tens of ms.
	if _, err := s.resetLink(c, tok); err != nil {
		return err
	}
	hash, err := s.cfg.Password.Hash(password)
	if err != nil {
		return err
	}
	u, err := s.store.ResetPassword(ctx(c), web.HashToken(tok), hash, s.now())
	if err != nil {
		return err
	}
	if p := web.Caller(c); p != nil && p.User.ID == u.ID {
		s.kit.ClearCookie(c, web.SessionCookie)
	}
	s.queueNotice(c, u, civic.MailPasswordChanged, "")
	return nil
}

// queueNotice queues a notice (no link) to the account's address; a
// failure is logged: the change it tells of is done.
func (s *Server) queueNotice(c *fiber.Ctx, u *civic.User, kind civic.MailKind, detail string) {
	if err := s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: kind, UserID: u.ID, Recipient: u.Email, Detail: detail}); err != nil {
		s.log.Error("notice not queued", "kind", kind, "user", u.ID, "err", err)
	}
}

// currentUser is the caller's account with its password hash (sessions
// load the user without it).
func (s *Server) currentUser(c *fiber.Ctx) (*civic.User, error) {
	return s.store.UserByID(ctx(c), web.Caller(c).User.ID)
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
	n, err := s.changePassword(c, r.CurrentPassword, r.NewPassword)
	if err != nil {
		return err
	}
	return c.JSON(sessionsEnded{SessionsEnded: n})
}

// checkCurrentPassword refuses a wrong current password (FieldError on
// field), counted per account.
func (s *Server) checkCurrentPassword(c *fiber.Ctx, u *civic.User, field, password string) error {
	if err := s.passwordQuota(c, u.ID); err != nil {
		return err
	}
	if passwordTooLong(password) || !VerifyPassword(u.PasswordHash, password) {
		_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "account.password_check_failed", Target: u.ID, Detail: s.kit.ClientIP(c)})
		return civic.FieldError(field, "wrong password")
	}
	return nil
}

// changePassword replaces the caller's password; every other session ends
// (this one stays) and a notice goes to the address.
func (s *Server) changePassword(c *fiber.Ctx, current, next string) (int, error) {
	u, err := s.currentUser(c)
	if err != nil {
		return 0, err
	}
	if err := s.checkCurrentPassword(c, u, "current_password", current); err != nil {
		return 0, err
	}
	if err := CheckNewPassword("new_password", next); err != nil {
		return 0, err
	}
	hash, err := s.cfg.Password.Hash(next)
	if err != nil {
		return 0, err
	}
	n, err := s.store.ChangePassword(ctx(c), u.ID, hash, web.Caller(c).Session.TokenHash)
	if err != nil {
		return 0, err
	}
	s.queueNotice(c, u, civic.MailPasswordChanged, "")
	return n, nil
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
	to, err := s.requestEmailChange(c, r.Email, r.Password)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(emailPending{PendingEmail: to})
}

// requestEmailChange sends a confirmation link to the new address and a
// notice to the current one; the address changes when the link is followed.
func (s *Server) requestEmailChange(c *fiber.Ctx, email, password string) (string, error) {
	u, err := s.currentUser(c)
	if err != nil {
		return "", err
	}
	if err := s.checkCurrentPassword(c, u, "password", password); err != nil {
		return "", err
	}
	addr, err := checkEmail("email", email)
	if err != nil {
		return "", err
	}
	if addr == u.Email {
		return "", civic.FieldError("email", "this is already your address")
	}
	if _, err := s.store.UserByEmail(ctx(c), addr); err == nil {
		return "", civic.Errorf(civic.ECONFLICT, "an account with this e-mail address exists")
	} else if civic.ErrorCode(err) != civic.ENOTFOUND {
		return "", err
	}
	if err := s.mailQuota(c, "email:u:"+u.ID); err != nil {
		return "", err
	}
	if err := s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: civic.MailEmailChange, UserID: u.ID, Recipient: addr}); err != nil {
		return "", err
	}
	s.queueNotice(c, u, civic.MailEmailChangeNote, addr)
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "account.email_change_requested", Target: u.ID})
	return addr, nil
}

// sessionViews lists the caller's sessions, this one marked.
func (s *Server) sessionViews(c *fiber.Ctx) ([]civic.SessionView, error) {
	p := web.Caller(c)
	ses, err := s.store.UserSessions(ctx(c), p.User.ID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]civic.SessionView, 0, len(ses))
	for _, se := range ses {
		out = append(out, civic.SessionView{ID: se.ID, Kind: se.Kind, Created: se.Created, LastUsed: se.LastUsed,
			Expires: se.Expires, Current: se.TokenHash == p.Session.TokenHash})
	}
	return out, nil
}

func (s *Server) mySessions(c *fiber.Ctx) error {
	vs, err := s.sessionViews(c)
	if err != nil {
		return err
	}
	return c.JSON(vs)
}

// revokeSession ends one of the caller's sessions; reports whether it was
// this one (its cookie is then cleared).
func (s *Server) revokeSession(c *fiber.Ctx, id string) (bool, error) {
	p := web.Caller(c)
	se, err := s.store.DeleteUserSession(ctx(c), p.User.ID, id)
	if err != nil {
		return false, err
	}
	current := se.TokenHash == p.Session.TokenHash
	if current {
		s.kit.ClearCookie(c, web.SessionCookie)
	}
	return current, nil
}

func (s *Server) revokeSessionJSON(c *fiber.Ctx) error {
	if _, err := s.revokeSession(c, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// signOutEverywhere ends every session of the caller, this one included.
func (s *Server) signOutEverywhere(c *fiber.Ctx) (int, error) {
	n, err := s.store.DeleteUserSessions(ctx(c), web.Caller(c).User.ID, "")
	if err != nil {
		return 0, err
	}
	s.kit.ClearCookie(c, web.SessionCookie)
	return n, nil
}

func (s *Server) signOutEverywhereJSON(c *fiber.Ctx) error {
	n, err := s.signOutEverywhere(c)
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

// touchSession records the session's use at most once per
// civic.SessionTouchEvery; a failure only loses that record.
func (s *Server) touchSession(c *fiber.Ctx, se *civic.Session) {
	now := s.now()
	if se.LastUsed != nil && now.Sub(*se.LastUsed) < civic.SessionTouchEvery {
		return
	}
	if err := s.store.TouchSession(ctx(c), se.TokenHash, now); err != nil {
		s.log.Debug("session last use not recorded", "err", err)
	}
}

// accountRoutes are the routes of account security, appended to the table.
func (s *Server) accountRoutes() []*web.Route {
	const v1 = "/api/v1"
	f := s.accountForms()
	retour := web.Q(returnField, "string", "same-site path to return to")
	jeton := web.Q(tokenField, "string", "the token of the link received by e-mail")
	return []*web.Route{
		{Method: "POST", Path: v1 + "/auth/verify", Tag: "auth", Summary: "Follow a verification or address-change link: the token it carries (single use)", Body: verifyReq{}, Response: civic.User{}, Handler: s.verifyEmail},
		{Method: "POST", Path: v1 + "/me/verification", Tag: "auth", Summary: "Send a new verification link to my address (limited per account)", Access: web.SignedIn, Status: 202, Response: mailQueued{}, Handler: s.resendVerification},
		{Method: "POST", Path: v1 + "/auth/password/forgot", Tag: "auth", Summary: "Send a password-reset link; the answer is the same whether or not the address has an account", Body: forgotReq{}, Response: forgotResp{}, Status: 202, Limit: "signin", Handler: s.forgotPassword},
		{Method: "POST", Path: v1 + "/auth/password/reset", Tag: "auth", Summary: "Set a new password with a reset link's token: every session of the account ends", Body: resetReq{}, Status: 204, Limit: "signin", Handler: s.resetPassword},
		{Method: "PUT", Path: v1 + "/me/password", Tag: "auth", Summary: "Change my password (needs the current one): every other session ends", Access: web.SignedIn, Body: passwordReq{}, Response: sessionsEnded{}, Handler: s.changePasswordJSON},
		{Method: "PUT", Path: v1 + "/me/email", Tag: "auth", Summary: "Change my address (needs the password): it changes once the link sent to the new address is followed; the old one gets a notice", Access: web.SignedIn, Body: emailReq{}, Response: emailPending{}, Status: 202, Handler: s.changeEmailJSON},
		{Method: "GET", Path: v1 + "/me/sessions", Tag: "auth", Summary: "My sessions (browser and API), without their tokens", Access: web.SignedIn, Response: []civic.SessionView{}, Handler: s.mySessions},
		{Method: "DELETE", Path: v1 + "/me/sessions", Tag: "auth", Summary: "Sign out everywhere: end every session of my account, this one included", Access: web.SignedIn, Response: sessionsEnded{}, Handler: s.signOutEverywhereJSON},
		{Method: "DELETE", Path: v1 + "/me/sessions/:id", Tag: "auth", Summary: "End one of my sessions", Access: web.SignedIn, Status: 204, Handler: s.revokeSessionJSON},
		{Method: "PUT", Path: v1 + "/users/:id/assurance", Tag: "auth", Summary: "Record a stronger identity check of an account (level 2–3 and the method; 0 withdraws it)", Access: web.SignedIn, Roles: admin, Body: assuranceReq{}, Status: 204, Handler: s.setAssurance},

		{Method: "GET", Path: verifyPath, Tag: "pages", Summary: "Page (HTML, French): what a verification or address-change link opens: a button that confirms (the link is not used by opening it)", Produces: "text/html", Params: []web.Param{jeton}, Handler: s.verifyPage},
		{Method: "POST", Path: verifyPath, Tag: "pages", Summary: "Confirmation form post: the link is used like POST /api/v1/auth/verify, then 303", Body: verifyFormReq{}, Produces: "text/html", Status: 303, Form: f.verify, Handler: s.verifyPost},
		{Method: "GET", Path: forgotPath, Tag: "pages", Summary: "Page (HTML, French): ask for a password-reset link", Produces: "text/html", Handler: s.forgotPage},
		{Method: "POST", Path: forgotPath, Tag: "pages", Summary: "Reset request form post, like POST /api/v1/auth/password/forgot, then 303 with the same answer for any address", Body: forgotReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: f.forgot, Handler: s.forgotPost},
		{Method: "GET", Path: resetPath, Tag: "pages", Summary: "Page (HTML, French): choose a new password (what a reset link opens)", Produces: "text/html", Params: []web.Param{jeton}, Handler: s.resetPage},
		{Method: "POST", Path: resetPath, Tag: "pages", Summary: "New password form post, like POST /api/v1/auth/password/reset, then 303 to the sign-in page", Body: resetFormReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: f.reset, Handler: s.resetPost},
		{Method: "GET", Path: securityPath, Tag: "pages", Summary: "Page (HTML, French): account security: address and its verification, password, sessions (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Produces: "text/html", Params: []web.Param{retour}, Form: f.security, Handler: s.securityPage},
		{Method: "POST", Path: securityPath + "/verification", Tag: "pages", Summary: "Form post: send a new verification link, like POST /api/v1/me/verification, then 303 to retour", Access: web.SignedIn, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f.resend, Handler: s.resendPost},
		{Method: "POST", Path: securityPath + "/mot-de-passe", Tag: "pages", Summary: "Form post: change the password, like PUT /api/v1/me/password, then 303", Access: web.SignedIn, Body: passwordFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.passwordPost},
		{Method: "POST", Path: securityPath + "/adresse", Tag: "pages", Summary: "Form post: change the address, like PUT /api/v1/me/email, then 303", Access: web.SignedIn, Body: emailFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.emailPost},
		{Method: "POST", Path: securityPath + "/sessions/:id/fermer", Tag: "pages", Summary: "Form post: end one session, like DELETE /api/v1/me/sessions/{id}, then 303", Access: web.SignedIn, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.revokePost},
		{Method: "POST", Path: securityPath + "/deconnexion-partout", Tag: "pages", Summary: "Form post: sign out everywhere, like DELETE /api/v1/me/sessions, then 303 to the sign-in page", Access: web.SignedIn, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.everywherePost},
	}
}
