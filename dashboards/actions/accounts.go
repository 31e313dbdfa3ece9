package actions

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

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

func (a *AccountConfig) Validate() error {
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
	return a.Outbox.Validate()
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
func (s *Service) GrantAssurance(ctx context.Context, userID string, v Verifier) error {
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

// PasswordTooLong: a sign-in with a password no account can have is
// refused without hashing it (each invalid byte counts as one character, so
// what passes is at most 800 bytes).
func PasswordTooLong(pw string) bool { return utf8.RuneCountInString(pw) > MaxPasswordChars }

// CheckEmail validates an address typed by someone, as sign-up does.
func CheckEmail(field, email string) (string, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) || len(email) > 254 {
		return "", civic.FieldError(field, "not a valid e-mail address")
	}
	return strings.ToLower(addr.Address), nil
}

func (s *Service) mailQuota(c *fiber.Ctx, key string) error {
	return s.kit.Quota(c, "mail", key, s.cfg.Accounts.MailLimit, s.cfg.Accounts.MailWindow)
}

// passwordQuota bounds the current-password checks of one account (change
// of password or address) as sign-in bounds them per address.
func (s *Service) passwordQuota(c *fiber.Ctx, userID string) error {
	return s.kit.Quota(c, "password", "u:"+userID, s.cfg.SignInLimit, s.cfg.RateWindow)
}

// sessionTTL is a new session's lifetime by kind.
func (s *Service) sessionTTL(kind string) time.Duration {
	if kind == civic.SessionCookie {
		return s.cfg.SessionTTL
	}
	return s.cfg.Accounts.BearerTTL
}

// queueVerification queues the verification mail of a new account. A
// failure is logged, not returned: the account exists and the mail can be
// asked for again.
func (s *Service) queueVerification(c *fiber.Ctx, u *civic.User) {
	if err := s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: civic.MailVerify, UserID: u.ID, Recipient: u.Email}); err != nil {
		s.log.Error("verification mail not queued", "user", u.ID, "err", err)
	}
}

// BadToken is an ETOKEN for a token that cannot be one of ours.
func BadToken() error {
	return &civic.Error{Code: civic.ETOKEN, Message: "unknown link", Extra: map[string]any{"reason": civic.TokenUnknown}}
}

func PlausibleToken(tok string) bool { return tok != "" && len(tok) <= 128 }

// confirmLink uses a verification or address-change link (JSON route and
// the confirmation page).
func (s *Service) ConfirmLink(c *fiber.Ctx, tok string) (*civic.User, *civic.AccountToken, error) {
	if !PlausibleToken(tok) {
		return nil, nil, BadToken()
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

// sendVerification queues a new verification link for the caller.
func (s *Service) SendVerification(c *fiber.Ctx) (string, error) {
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

// ForgotAnswer is the answer to every well-formed reset request: it never
// says whether the address has an account.
const ForgotAnswer = "if an account has this address, a link to choose a new password was sent to it"

// requestReset queues a reset mail for an address, whether or not it has
// an account: the request does the same work either way (one row), and the
// outbox worker looks the account up and drops the mail when there is none.
// So neither the answer nor its timing tells whether the account exists.
func (s *Service) RequestReset(c *fiber.Ctx, email string) error {
	addr, err := CheckEmail("email", email)
	if err != nil {
		return err
	}
	if err := s.mailQuota(c, "reset:a:"+addr); err != nil {
		return err
	}
	return s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: civic.MailReset, Recipient: addr})
}

// resetLink returns a usable reset link without using it.
func (s *Service) ResetLink(c *fiber.Ctx, tok string) (*civic.AccountToken, error) {
	if !PlausibleToken(tok) {
		return nil, BadToken()
	}
	t, err := s.store.Token(ctx(c), web.HashToken(tok), s.now())
	if err != nil {
		return nil, err
	}
	if t.Purpose != civic.TokenReset {
		return nil, BadToken()
	}
	return t, nil
}

// applyReset sets the new password of a reset link: every session of the
// account ends (the browser's too), and a notice goes to the address.
func (s *Service) ApplyReset(c *fiber.Ctx, tok, password string) error {
	if err := CheckNewPassword("password", password); err != nil {
		return err
	}
	// The cheap check first: an argon2id hash costs 19 MiB and tens of ms.
	if _, err := s.ResetLink(c, tok); err != nil {
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
func (s *Service) queueNotice(c *fiber.Ctx, u *civic.User, kind civic.MailKind, detail string) {
	if err := s.outbox.queue(ctx(c), &civic.OutboxMail{Kind: kind, UserID: u.ID, Recipient: u.Email, Detail: detail}); err != nil {
		s.log.Error("notice not queued", "kind", kind, "user", u.ID, "err", err)
	}
}

// currentUser is the caller's account with its password hash (sessions
// load the user without it).
func (s *Service) CurrentUser(c *fiber.Ctx) (*civic.User, error) {
	return s.store.UserByID(ctx(c), web.Caller(c).User.ID)
}

// checkCurrentPassword refuses a wrong current password (FieldError on
// field), counted per account.
func (s *Service) CheckCurrentPassword(c *fiber.Ctx, u *civic.User, field, password string) error {
	if err := s.passwordQuota(c, u.ID); err != nil {
		return err
	}
	if PasswordTooLong(password) || !VerifyPassword(u.PasswordHash, password) {
		_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "account.password_check_failed", Target: u.ID, Detail: s.kit.ClientIP(c)})
		return civic.FieldError(field, "wrong password")
	}
	return nil
}

// changePassword replaces the caller's password; every other session ends
// (this one stays) and a notice goes to the address.
func (s *Service) ChangePassword(c *fiber.Ctx, current, next string) (int, error) {
	u, err := s.CurrentUser(c)
	if err != nil {
		return 0, err
	}
	if err := s.CheckCurrentPassword(c, u, "current_password", current); err != nil {
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

// requestEmailChange sends a confirmation link to the new address and a
// notice to the current one; the address changes when the link is followed.
func (s *Service) RequestEmailChange(c *fiber.Ctx, email, password string) (string, error) {
	u, err := s.CurrentUser(c)
	if err != nil {
		return "", err
	}
	if err := s.CheckCurrentPassword(c, u, "password", password); err != nil {
		return "", err
	}
	addr, err := CheckEmail("email", email)
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
func (s *Service) SessionViews(c *fiber.Ctx) ([]civic.SessionView, error) {
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

// revokeSession ends one of the caller's sessions; reports whether it was
// this one (its cookie is then cleared).
func (s *Service) RevokeSession(c *fiber.Ctx, id string) (bool, error) {
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

// signOutEverywhere ends every session of the caller, this one included.
func (s *Service) SignOutEverywhere(c *fiber.Ctx) (int, error) {
	n, err := s.store.DeleteUserSessions(ctx(c), web.Caller(c).User.ID, "")
	if err != nil {
		return 0, err
	}
	s.kit.ClearCookie(c, web.SessionCookie)
	return n, nil
}

type SignUpReq struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// createCitizen validates a sign-up and stores the citizen account. The JSON
// route and the sign-up page both go through it, so they accept and refuse
// the same input (FieldError names the field the page marks invalid).
func (s *Service) CreateCitizen(c *fiber.Ctx, r SignUpReq) (*civic.User, error) {
	addr, err := mail.ParseAddress(r.Email)
	if err != nil || addr.Address != strings.TrimSpace(r.Email) || len(r.Email) > 254 {
		return nil, civic.FieldError("email", "not a valid e-mail address")
	}
	if err := CheckNewPassword("password", r.Password); err != nil {
		return nil, err
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
		return nil, civic.FieldError("name", "between 1 and 100 characters")
	}
	hash, err := s.cfg.Password.Hash(r.Password)
	if err != nil {
		return nil, err
	}
	u := &civic.User{Email: r.Email, Name: r.Name, Role: civic.RoleCitizen, PasswordHash: hash}
	if err := s.store.CreateUser(ctx(c), u); err != nil {
		return nil, err
	}
	s.queueVerification(c, u)
	return u, nil
}

type SignInResp struct {
	Token     string      `json:"token,omitempty"`
	CSRFToken string      `json:"csrf_token,omitempty"`
	Expires   time.Time   `json:"expires"`
	User      *civic.User `json:"user"`
}

// checkPassword returns the account of email when password is right. Every
// failure is the same EUNAUTHORIZED and unknown e-mails cost the time of a
// real check, so callers cannot tell whether an account exists. The
// per-account throttle (web.Kit.ThrottleSignIn) runs first: past its budget no
// password is checked.
func (s *Service) CheckPassword(c *fiber.Ctx, email, password string) (*civic.User, error) {
	if PasswordTooLong(password) || len(email) > 254 {
		return nil, civic.Errorf(civic.EUNAUTHORIZED, "wrong e-mail address or password")
	}
	succeeded, err := s.kit.ThrottleSignIn(c, email)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx(c), email)
	if err != nil && civic.ErrorCode(err) != civic.ENOTFOUND {
		return nil, err
	}
	if u == nil {
		VerifyPassword(s.dummy, password) // same time as a real check
		_ = s.store.Record(ctx(c), civic.AuditEntry{Action: "auth.signin_failed", Target: "unknown", Detail: s.kit.ClientIP(c)})
		return nil, civic.Errorf(civic.EUNAUTHORIZED, "wrong e-mail address or password")
	}
	if !VerifyPassword(u.PasswordHash, password) {
		// No actor: whoever sent the wrong password is not known to be the
		// account's owner (the export shows neither actor nor address).
		_ = s.store.Record(ctx(c), civic.AuditEntry{Action: "auth.signin_failed", Target: u.ID, Detail: s.kit.ClientIP(c)})
		return nil, civic.Errorf(civic.EUNAUTHORIZED, "wrong e-mail address or password")
	}
	if u.Blocked != nil { // said only to whoever knows the password
		_ = s.store.Record(ctx(c), civic.AuditEntry{Action: "auth.signin_blocked", Target: u.ID, Detail: s.kit.ClientIP(c)})
		return nil, civic.BlockedError()
	}
	succeeded()
	return u, nil
}

// startSession opens a session for u: a bearer token, or with cookie the
// HttpOnly session cookie and its CSRF token (the JSON sign-in with
// cookie=true and the page forms share this path).
func (s *Service) StartSession(c *fiber.Ctx, u *civic.User, cookie bool) (SignInResp, error) {
	tok := web.RandomToken()
	now := s.now().UTC()
	se := &civic.Session{TokenHash: web.HashToken(tok), UserID: u.ID, Kind: civic.SessionBearer, Created: now}
	resp := SignInResp{User: u}
	if cookie {
		se.Kind, se.CSRF = civic.SessionCookie, web.RandomToken()
		resp.CSRFToken = se.CSRF
	} else {
		resp.Token = tok
	}
	se.Expires = now.Add(s.sessionTTL(se.Kind))
	resp.Expires = se.Expires
	if err := s.store.CreateSession(ctx(c), se); err != nil {
		return SignInResp{}, err
	}
	if cookie { // only once the session exists: a failed store leaves no cookie
		c.Cookie(&fiber.Cookie{Name: web.SessionCookie, Value: tok, Path: "/", Expires: se.Expires,
			HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.CookieSecure})
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "auth.signin", Target: u.ID, Detail: se.Kind})
	return resp, nil
}

// endSession deletes the caller's session and clears the cookie (JSON
// sign-out and the sign-out form).
func (s *Service) EndSession(c *fiber.Ctx) error {
	if err := s.store.DeleteSession(ctx(c), web.Caller(c).Session.TokenHash); err != nil {
		return err
	}
	s.kit.ClearCookie(c, web.SessionCookie)
	return nil
}

type NotificationsReq struct {
	// OwnProposals: mail me when a proposal I wrote changes status.
	OwnProposals bool `json:"own_proposals"`
	// SupportedProposals: mail me when a proposal I support changes status.
	SupportedProposals bool `json:"supported_proposals"`
}

// setNotifications stores the caller's consent to status e-mails (the JSON
// route and the form of /compte).
func (s *Service) SetNotifications(c *fiber.Ctx, r NotificationsReq, source string) (*civic.NotificationPrefs, error) {
	return s.store.SetNotificationPrefs(ctx(c), web.Caller(c).User.ID, r.OwnProposals, r.SupportedProposals, source, s.now())
}

// eraseAccount deletes the caller's account through the store's one erasure
// path (DELETE /api/v1/me and the page /compte/suppression) and expires the
// session cookie.
func (s *Service) EraseAccount(c *fiber.Ctx) error {
	if err := s.store.DeleteUser(ctx(c), web.Caller(c).User.ID, s.now()); err != nil {
		return err
	}
	s.kit.ClearCookie(c, web.SessionCookie)
	return nil
}

type ForgotReq struct {
	Email string `json:"email"`
}
