package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// decode reads a JSON body strictly: right media type, known fields only, one value.
func decode(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return civic.Errorf(civic.EUNSUPPORTED, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if len(msg) > 160 {
			msg = msg[:160]
		}
		return civic.Errorf(civic.EINVALID, "body: %s", msg)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return civic.Errorf(civic.EINVALID, "body: trailing data after the JSON value")
	}
	return nil
}

func intQuery(c *fiber.Ctx, name string, def, minV, maxV int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < minV || n > maxV {
		return 0, civic.FieldError(name, "want an integer between %d and %d", minV, maxV)
	}
	return n, nil
}

func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }

func (s *Server) healthz(c *fiber.Ctx) error { return c.SendString("ok") }

func (s *Server) readyz(c *fiber.Ctx) error {
	cx, cancel := context.WithTimeout(ctx(c), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(cx); err != nil {
		s.log.Warn("not ready: database", "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "database unavailable")
	}
	if err := s.meas.Ping(cx); err != nil {
		s.log.Warn("not ready: influxdb", "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "InfluxDB unavailable")
	}
	return c.SendString("ready")
}

type signUpReq struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) signUp(c *fiber.Ctx) error {
	var r signUpReq
	if err := decode(c, &r); err != nil {
		return err
	}
	u, err := s.createCitizen(c, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

// createCitizen validates a sign-up and stores the citizen account. The JSON
// route and the sign-up page both go through it, so they accept and refuse
// the same input (FieldError names the field the page marks invalid).
func (s *Server) createCitizen(c *fiber.Ctx, r signUpReq) (*civic.User, error) {
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

type signInReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Cookie asks for a browser session (cookie + CSRF token) instead of a bearer token.
	Cookie bool `json:"cookie"`
}

type signInResp struct {
	Token     string      `json:"token,omitempty"`
	CSRFToken string      `json:"csrf_token,omitempty"`
	Expires   time.Time   `json:"expires"`
	User      *civic.User `json:"user"`
}

func (s *Server) signIn(c *fiber.Ctx) error {
	var r signInReq
	if err := decode(c, &r); err != nil {
		return err
	}
	u, err := s.checkPassword(c, r.Email, r.Password)
	if err != nil {
		return err
	}
	resp, err := s.startSession(c, u, r.Cookie)
	if err != nil {
		return err
	}
	return c.JSON(resp)
}

// checkPassword returns the account of email when password is right. Every
// failure is the same EUNAUTHORIZED and unknown e-mails cost the time of a
// real check, so callers cannot tell whether an account exists. The
// per-account throttle (signin_throttle.go) runs first: past its budget no
// password is checked.
func (s *Server) checkPassword(c *fiber.Ctx, email, password string) (*civic.User, error) {
	if passwordTooLong(password) || len(email) > 254 {
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
	succeeded()
	return u, nil
}

// startSession opens a session for u: a bearer token, or with cookie the
// HttpOnly session cookie and its CSRF token (the JSON sign-in with
// cookie=true and the page forms share this path).
func (s *Server) startSession(c *fiber.Ctx, u *civic.User, cookie bool) (signInResp, error) {
	tok := web.RandomToken()
	now := s.now().UTC()
	se := &civic.Session{TokenHash: web.HashToken(tok), UserID: u.ID, Kind: civic.SessionBearer, Created: now}
	resp := signInResp{User: u}
	if cookie {
		se.Kind, se.CSRF = civic.SessionCookie, web.RandomToken()
		resp.CSRFToken = se.CSRF
	} else {
		resp.Token = tok
	}
	se.Expires = now.Add(s.sessionTTL(se.Kind))
	resp.Expires = se.Expires
	if err := s.store.CreateSession(ctx(c), se); err != nil {
		return signInResp{}, err
	}
	if cookie { // only once the session exists: a failed store leaves no cookie
		c.Cookie(&fiber.Cookie{Name: web.SessionCookie, Value: tok, Path: "/", Expires: se.Expires,
			HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.CookieSecure})
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "auth.signin", Target: u.ID, Detail: se.Kind})
	return resp, nil
}

func (s *Server) signOut(c *fiber.Ctx) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// endSession deletes the caller's session and clears the cookie (JSON
// sign-out and the sign-out form).
func (s *Server) endSession(c *fiber.Ctx) error {
	if err := s.store.DeleteSession(ctx(c), web.Caller(c).Session.TokenHash); err != nil {
		return err
	}
	s.kit.ClearCookie(c, web.SessionCookie)
	return nil
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
	if err := s.eraseAccount(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

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

func (s *Server) themes(c *fiber.Ctx) error {
	ts, err := s.store.Themes(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (s *Server) createTheme(c *fiber.Ctx) error {
	var t civic.Theme
	if err := decode(c, &t); err != nil {
		return err
	}
	if err := s.store.CreateTheme(ctx(c), &t); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "theme.create", Target: t.ID})
	return c.Status(fiber.StatusCreated).JSON(t)
}

type campaignReq struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Kind              civic.CampaignKind `json:"kind"`
	Starts            time.Time          `json:"starts"`
	Ends              time.Time          `json:"ends"`
	BudgetEUR         int64              `json:"budget_eur"`
	ShortlistTopN     int                `json:"shortlist_top_n"`
	ShortlistMinVotes int                `json:"shortlist_min_votes"`
}

type campaignView struct {
	civic.Campaign
	CommittedEUR int64 `json:"committed_eur"`
	RemainingEUR int64 `json:"remaining_eur"`
}

func (s *Server) createCampaign(c *fiber.Ctx) error {
	var r campaignReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cp := &civic.Campaign{ID: r.ID, Name: r.Name, Kind: r.Kind, Starts: r.Starts, Ends: r.Ends, BudgetEUR: r.BudgetEUR,
		ShortlistTopN: r.ShortlistTopN, ShortlistMinVotes: r.ShortlistMinVotes}
	if err := s.store.CreateCampaign(ctx(c), cp); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "campaign.create", Target: cp.ID})
	return c.Status(fiber.StatusCreated).JSON(cp)
}

func (s *Server) view(c *fiber.Ctx, cp *civic.Campaign) (campaignView, error) {
	committed, err := s.store.CommittedEUR(ctx(c), cp.ID)
	if err != nil {
		return campaignView{}, err
	}
	return campaignView{Campaign: *cp, CommittedEUR: committed, RemainingEUR: cp.Remaining(committed)}, nil
}

func (s *Server) campaigns(c *fiber.Ctx) error {
	cs, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	out := make([]campaignView, 0, len(cs))
	for _, cp := range cs {
		v, err := s.view(c, cp)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(out)
}

func (s *Server) campaign(c *fiber.Ctx) error {
	cp, err := s.store.Campaign(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.view(c, cp)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) shortlist(c *fiber.Ctx) error {
	ids, err := s.store.Shortlist(ctx(c), c.Params("id"), web.Caller(c).User, s.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.statusChanged(c, id, civic.StatusShortlisted, "")
	}
	return c.JSON(map[string][]string{"shortlisted": ids})
}
