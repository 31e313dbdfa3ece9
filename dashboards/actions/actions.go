// Package actions is what a JSON route and its HTML form both do, written
// once: sign-up, the sign-in check (the per-account throttle, the dummy hash
// for unknown addresses), sessions, e-mail verification, password change and
// reset, address change, account deletion, e-mail preferences; proposal
// submission, supports, comments, reviews and workflow steps; and the mail
// those cause: the outbox worker and the status e-mails with their
// unsubscribe links. dashboards/api's JSON handlers decode JSON and call
// it; dashboards/pages's form handlers parse forms and call it, so both
// accept and refuse the same input with the same errors.
//
// The workflows take the request (*fiber.Ctx): they read the caller, count
// quotas against the client's address, set and clear the session cookie —
// what the JSON route and the form share is exactly that HTTP exchange.
package actions

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Store is what the workflows need from the relational store (sqlstore.Store).
type Store interface {
	civic.UserService
	civic.ProposalService
	civic.VoteService
	civic.DiscussionService
	civic.AuditService
	civic.AccountService
	civic.OutboxService
	civic.NotificationService // status e-mails: consent, queueing and send-time checks (notify.go)
	civic.ActivityService
	civic.ModerationService  // flags, the moderation queue and its history (moderation.go)
	civic.PeopleService      // the back office's accounts and audit search (people.go)
	civic.CampaignAdmin      // campaigns' own themes and closing (campaigns.go)
	civic.RealizationService // selected proposals' realization (realization.go)
	UserByID(ctx context.Context, id string) (*civic.User, error)
	MissionStore // the mission workflows (missions.go)
}

// MissionStore is what the mission workflows read and write.
type MissionStore interface {
	CreateMission(ctx context.Context, m *civic.Mission) error
	Mission(ctx context.Context, id string) (*civic.Mission, error)
	SetMissionStatus(ctx context.Context, id string, to civic.MissionStatus, actor string, now time.Time) (*civic.Mission, error)
}

// Mailer sends one e-mail (mail.SMTP, or mail.LogSender without a relay).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config is the part of api.Config the workflows read (validated there).
type Config struct {
	Accounts     AccountConfig
	Password     PasswordParams
	Notify       NotifyConfig
	SessionTTL   time.Duration // browser sessions; bearer tokens last Accounts.BearerTTL
	CookieSecure bool
	// SignInLimit per RateWindow also bounds the current-password checks
	// of one account.
	SignInLimit int
	RateWindow  time.Duration
	PublicURL   string           // the base of the links in e-mails
	Topics      smartdeal.Topics // the drones' command and telemetry topics (missions.go)
}

// Deps are the workflows' collaborators.
type Deps struct {
	Store      Store    // required
	Kit        *web.Kit // required: quotas, the sign-in throttle, cookies, the vote counter
	Mail       Mailer   // (optional) defaults to writing mail to Logger
	Logger     *slog.Logger
	Registry   prometheus.Registerer
	Now        func() time.Time
	Verifiers  []Verifier
	Publisher  Publisher         // the drones' retained mission, flight-log packs (optional: without it those answer 503)
	FlightLogs FlightLogImporter // (optional: without it uploads answer 503)
}

// Service runs the workflows.
type Service struct {
	cfg        Config
	store      Store
	kit        *web.Kit
	log        *slog.Logger
	now        func() time.Time
	mail       Mailer
	dummy      string // a password hash to spend time on for unknown accounts
	publicURL  atomic.Pointer[string]
	outbox     *Outbox
	notify     *notifier
	verifiers  []Verifier
	pub        Publisher
	flightLogs FlightLogImporter
}

// New builds the service.
func New(cfg Config, deps Deps) (*Service, error) {
	if deps.Store == nil || deps.Kit == nil {
		return nil, errors.New("actions: Store and Kit are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Mail == nil {
		deps.Mail = &mail.LogSender{Log: deps.Logger}
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, store: deps.Store, kit: deps.Kit, log: deps.Logger, now: deps.Now, mail: deps.Mail, verifiers: deps.Verifiers,
		pub: deps.Publisher, flightLogs: deps.FlightLogs}
	s.SetPublicURL(cfg.PublicURL)
	var err error
	if s.dummy, err = cfg.Password.Hash("not a real password"); err != nil {
		return nil, err
	}
	s.notify = newNotifier(cfg.Notify)
	if s.outbox, err = newOutbox(s, deps.Registry); err != nil {
		return nil, err
	}
	return s, nil
}

// SetPublicURL changes the base of e-mail links.
func (s *Service) SetPublicURL(u string) {
	u = strings.TrimSuffix(u, "/")
	s.publicURL.Store(&u)
}

// PublicURL is the base of e-mail links.
func (s *Service) PublicURL() string { return *s.publicURL.Load() }

// Verifiers are the stronger identity checks the account page offers.
func (s *Service) Verifiers() []Verifier { return s.verifiers }

// Config is the service's configuration.
func (s *Service) Config() Config { return s.cfg }

func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
