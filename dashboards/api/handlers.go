package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
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

func (s *Server) campaigns(c *fiber.Ctx) error {
	cs, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	out := make([]app.CampaignBudget, 0, len(cs))
	for _, cp := range cs {
		v, err := s.views.Campaign(ctx(c), cp)
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
	v, err := s.views.Campaign(ctx(c), cp)
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
		s.act.StatusChanged(c, id, civic.StatusShortlisted, "")
	}
	return c.JSON(map[string][]string{"shortlisted": ids})
}
