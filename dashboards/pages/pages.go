// Package pages is the French web interface of the platform: every page and
// form handler, one typed view per template (views.go), the templates
// (embedded), the form kit (CSRF field, safe return paths, flash messages,
// French form errors), the legal pages and the error pages. The SVG charts
// and track drawings are pages/chart, the legal configuration and the
// accessibility statement's data pages/legal, French formatting
// dashboards/fr. Pages read what they show from the composed views
// (dashboards/app) and the store, and write through the same workflows as
// the JSON routes (dashboards/actions); dashboards/api mounts Routes()
// beside its JSON routes, in one table and one OpenAPI document.
//
// Pages work without JavaScript (forms post and answer 303), are accessible
// (labels, keyboard, never colour alone; axe-core checks in the browser
// tests) and send a strict Content-Security-Policy with a per-response nonce.
package pages

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"time"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/pages/legal"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

// Store is what the pages read from the relational store (sqlstore.Store)
// besides the composed views.
type Store interface {
	Themes(ctx context.Context) ([]*civic.Theme, error)
	Campaign(ctx context.Context, id string) (*civic.Campaign, error)
	Campaigns(ctx context.Context) ([]*civic.Campaign, error)
	CommittedEUR(ctx context.Context, campaignID string) (int64, error)
	Proposals(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error)
	Reviews(ctx context.Context, proposalID string) ([]*civic.Review, error)
	Activity(ctx context.Context, userID string, now time.Time) (*civic.Activity, error)
	NotificationPrefs(ctx context.Context, userID string) (*civic.NotificationPrefs, error)
	SetNotificationPrefs(ctx context.Context, userID string, own, supported bool, source string, now time.Time) (*civic.NotificationPrefs, error)
	Token(ctx context.Context, tokenHash string, now time.Time) (*civic.AccountToken, error)
	UserByID(ctx context.Context, id string) (*civic.User, error)
	Record(ctx context.Context, e civic.AuditEntry) error
	// The mission plan form (missionctl.go): the drones and the agent.
	Devices(ctx context.Context, siteID string) ([]*civic.Device, error)
	Device(ctx context.Context, id string) (*civic.Device, error)
	// The device page (sites.go): its status transitions, newest first.
	DeviceStatusHistory(ctx context.Context, id string, limit int) ([]civic.DeviceStatusChange, error)
	UserByEmail(ctx context.Context, email string) (*civic.User, error)
	// The back office (backoffice.go): comments of a proposal (to find the
	// one flagged), the moderation queue and its history.
	Comments(ctx context.Context, proposalID string, all bool) ([]*civic.Comment, error)
	ModerationQueue(ctx context.Context, limit int) ([]*civic.QueueItem, error)
	ModerationHistory(ctx context.Context, limit int) ([]*civic.ModerationDecision, error)
	People(ctx context.Context, f civic.UserFilter) ([]*civic.Person, error)
	Person(ctx context.Context, id string) (*civic.Person, error)
	SearchAudit(ctx context.Context, f civic.AuditFilter) ([]*civic.AuditEntry, error)
	UsersByIDs(ctx context.Context, ids []string) ([]*civic.User, error)
	CampaignThemes(ctx context.Context) (map[string][]string, error)
}

// Config is the part of api.Config the pages read (validated there).
type Config struct {
	Accounts         actions.AccountConfig
	Legal            legal.Legal
	Licence          string
	SessionTTL       time.Duration
	CookieSecure     bool
	RateWindow       time.Duration
	PageSeriesPoints int
	PageRange        time.Duration
	Tiles            Tiles // the maps' raster tile server (optional; validated by api.Config)
}

// Deps are the pages' collaborators.
type Deps struct {
	Store   Store            // required
	Views   *app.Views       // required: what a page shows
	Actions *actions.Service // required: what a form does
	Kit     *web.Kit         // required: cookies, client addresses
	Logger  *slog.Logger
	Now     func() time.Time
	Maps    *app.Maps // required: the map page's view

	// Registry (optional) is the device registry's workflows: without it
	// the administrators' registry pages answer 503.
	Registry *actions.Registry
	// Events (optional) is the events' workflows: without it the agenda
	// pages answer 503.
	Events *actions.Events
	// Alerts are the risk managers' pages' collaborators (optional: without
	// a service those pages answer 503).
	Alerts AlertDeps
}

// Pages serves the pages.
type Pages struct {
	cfg   Config
	store Store
	views *app.Views
	act   *actions.Service
	kit   *web.Kit
	reg   *actions.Registry
	ev    *actions.Events
	log   *slog.Logger
	now   func() time.Time
	pages *template.Template
	maps  *app.Maps
	alert AlertDeps // the dashboard, alert and rule pages (alerts.go)
}

// New parses the templates and builds the pages.
func New(cfg Config, deps Deps) (*Pages, error) {
	if deps.Store == nil || deps.Views == nil || deps.Actions == nil || deps.Kit == nil || deps.Maps == nil {
		return nil, errors.New("pages: Store, Views, Actions, Kit and Maps are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Pages{cfg: cfg, store: deps.Store, views: deps.Views, act: deps.Actions, kit: deps.Kit, reg: deps.Registry, ev: deps.Events, log: deps.Logger, now: deps.Now, maps: deps.Maps}
	s.alert = deps.Alerts
	var err error
	if s.pages, err = s.parsePages(); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return s, nil
}

// PageError renders the French error page of a page view that failed
// (web.Kit.PageError).
func (s *Pages) PageError(c *fiber.Ctx, status int, code string) error {
	return s.pageError(c, status, code)
}

func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
