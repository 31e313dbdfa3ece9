package pages

import (
	"bytes"
	"embed"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris in minimal images

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/pages/chart"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

var missionStatusFR = map[civic.MissionStatus]string{
	civic.MissionPlanned: "planifiée", civic.MissionActive: "en cours", civic.MissionCompleted: "terminée", civic.MissionAborted: "interrompue",
}

var missionKindFR = map[string]string{
	"wildfire_watch": "Surveillance des feux de forêt", "flood_survey": "Relevé de crue", "coastline": "Suivi du littoral",
	"inspection": "Inspection", "other": "Autre mission",
}

var roleFR = map[civic.Role]string{
	civic.RoleCitizen: "citoyen·ne", civic.RoleExpert: "expert·e", civic.RoleAgent: "agent de terrain",
	civic.RoleRiskManager: "gestionnaire des risques", civic.RoleAdmin: "administrateur·rice",
}

func (s *Pages) parsePages() (*template.Template, error) {
	themes := map[string]string{}
	for _, t := range civic.SeedThemes {
		themes[t.ID] = t.NameFR
	}
	return template.New("").Funcs(template.FuncMap{
		"status": func(st civic.Status) string { return fr.Status(st) },
		"theme": func(id string) string {
			if n, ok := themes[id]; ok {
				return n
			}
			return id
		},
		"euros": func(v int64) string { return fr.Thousands(v) + " €" },
		"num": func(v *float64) string {
			if v == nil {
				return "—"
			}
			return strings.Replace(strconv.FormatFloat(*v, 'f', 2, 64), ".", ",", 1)
		},
		"quantity": fr.Quantity,
		"role":     func(r civic.Role) string { return roleFR[r] },
		"reason":   func(r civic.ModerationReason) string { return moderationReasonFR[r] },
		"fieldOf":  fieldOf,
		"smallMap": func(nonce string, p *placeView) smallMapArgs { return smallMapArgs{Nonce: nonce, P: p} },
	}).ParseFS(templatesFS, "templates/*.html")
}

// pageCSP is the pages' Content-Security-Policy: nothing by default; the
// page's own <style> and <script> elements run only with this response's
// nonce, and scripts may call only this origin (the JSON API).
func pageCSP(nonce, imgSrc string) string {
	if imgSrc != "" { // a configured tile server (Tiles.Origin), on the map pages only
		imgSrc = " " + imgSrc
	}
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce + "'; connect-src 'self'; img-src 'self'" + imgSrc + "; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func (s *Pages) render(c *fiber.Ctx, name string, data view) error {
	nonce := web.RandomToken()
	p := data.page()
	p.Nonce = nonce
	if p.Session == nil {
		// Pages that do not set it (error pages) still show who is signed in.
		if se, err := s.pageSession(c); err == nil && se != nil {
			p.Session = se
		}
	}
	if p.Here == "" {
		p.Here = c.Path() // where the sign-out and sign-in forms return to
	}
	p.Notice = s.takeFlash(c)
	p.Conformity = s.cfg.Legal.Conformity() // the footer's "Accessibilité : …" (RGAA)
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", pageCSP(nonce, p.ImgSrc))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store") // per-response nonce; signed-in pages carry the CSRF token
	return c.Send(buf.Bytes())
}

// pageSession is the signed-in visitor of a page. Only browser (cookie)
// sessions get one: the page puts their CSRF token in its forms' csrf field
// and hands it to its script, which sends it in X-CSRF-Token like any other
// cookie-authenticated write.
type pageSession struct {
	Name, CSRF string
	Role       civic.Role
	CanVote    bool // a citizen
	CanPropose bool // may submit proposals: the roles of POST /api/v1/ideas
	CanReview  bool // sees the review desk: the roles of GET /api/v1/ideas/{id}/evidence
	CanAlerts  bool // sees the dashboard and the alerts: web.AlertReaders
	Voted      bool // supports the proposal of the page (app.ProposalView.Supported)
	Verified   bool // the account's address is verified
	Assured    bool // its assurance level is enough to support (AccountConfig.SupportAssurance)
}

func (s *Pages) pageSession(c *fiber.Ctx) (*pageSession, error) {
	p := web.Caller(c)
	if p == nil || p.Session.Kind != civic.SessionCookie {
		return nil, nil
	}
	return &pageSession{Name: p.User.Name, CSRF: p.Session.CSRF, Role: p.User.Role, CanVote: p.User.Role == civic.RoleCitizen,
		CanPropose: p.User.Role.In(web.Proposers...), CanReview: p.User.Role.In(web.Reviewers...),
		Verified: p.User.EmailVerified != nil, Assured: p.User.Level() >= s.cfg.Accounts.SupportAssurance,
		CanAlerts: p.User.Role.In(web.AlertReaders...)}, nil
}

// ideasPage lists the public proposals, filtered and sorted (ideas_filter.go).
func (s *Pages) ideasPage(c *fiber.Ctx) error { return s.filteredIdeas(c) }

// missionView is a mission flown (or planned) for a proposal, with the
// flight summary computed from its track when it has flown.
type missionView struct {
	*civic.Mission
	Kind, Status, Window string
	Flown                bool
	Track                *series.Track
	Duration, Distance   string
	MaxAltitude, Battery string
}

func missionViewOf(m app.Mission) missionView {
	v := missionView{Mission: m.Mission, Kind: missionKind(m.Kind), Status: missionStatusFR[m.Status],
		Window: "du " + fr.Time(m.PlannedFrom) + " au " + fr.Time(m.PlannedTo), Flown: m.Flown}
	if m.Track != nil { // the figures of GET /missions/{id}/track
		f := chart.SummarizeFlight(m.Track)
		v.Track, v.Duration, v.Distance, v.MaxAltitude, v.Battery = m.Track, f.Duration, f.Distance, f.MaxAltitude, f.Battery
	}
	return v
}

// missionKind names a mission kind in French (an unknown one as it is).
func missionKind(k string) string {
	if n, ok := missionKindFR[k]; ok {
		return n
	}
	return k
}

func (s *Pages) ideaPage(c *fiber.Ctx) error { return s.renderIdea(c, fiber.StatusOK, ideaForm{}) }

// ideaForm is what a refused form post of a proposal page (support,
// comment) shows again on the page.
type ideaForm struct {
	Error   *formError
	Comment string            // the comment being written
	Update  *realizationDraft // the realization update being written (realization.go)
}

// renderIdea renders a proposal page (app.ProposalPage, the view of the
// JSON route too); a refused form shows it again with its error (f) and
// status.
func (s *Pages) renderIdea(c *fiber.Ctx, status int, f ideaForm) error {
	commentsPage, _ := strconv.Atoi(c.Query("commentaires")) // anything else: the first page
	v, err := s.views.ProposalPage(ctx(c), web.Viewer(c), c.Params("id"), app.ProposalOptions{Span: s.cfg.PageRange,
		Points: s.cfg.PageSeriesPoints, Detail: true, CommentsPage: commentsPage})
	if err != nil {
		return err
	}
	p, now := v.Proposal, s.now()
	stats := make([]app.Stats, 0, len(v.Series))
	charts := make([]chart.View, 0, len(v.Series))
	for i, sr := range v.Series {
		stats = append(stats, sr.Stats)
		charts = append(charts, chart.Build(i+1, sr.Data, sr.Unit))
		charts[i].Live = chart.BuildLive(sr.Data.SeriesKey, fr.Unit(sr.Unit), sr.Latest, now)
	}
	missions := make([]missionView, 0, len(v.Missions))
	for _, m := range v.Missions {
		missions = append(missions, missionViewOf(m))
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	if se != nil && se.CanVote {
		se.Voted = v.Supported
	}
	here := "/idees/" + url.PathEscape(p.ID)
	page := &ideaView{Page: Page{Title: p.Title, Session: se, Here: here, Error: f.Error}, P: p, Series: stats, Charts: charts, Missions: missions,
		VotingOpen: v.VotingOpen, Public: p.Status.Public(), Refused: p.Status == civic.StatusRefused, Comments: commentsOf(v.Comments, here), CommentDraft: f.Comment,
		SignIn: signInView{Retour: here}, Range: frSpan(s.cfg.PageRange), RangeFrom: fr.Time(v.Start), RangeTo: fr.Time(v.Stop)}
	rq := url.Values{"start": {v.Start.UTC().Format(time.RFC3339)}, "stop": {v.Stop.UTC().Format(time.RFC3339)}}.Encode()
	page.ExportJSON, page.ExportCSV = "/opendata/ideas/"+url.PathEscape(p.ID)+"/series.json?"+rq, "/opendata/ideas/"+url.PathEscape(p.ID)+"/series.csv?"+rq
	if page.Place, err = s.placeOf(c, p); err != nil {
		return err
	}
	if page.Place != nil {
		page.ImgSrc = s.cfg.Tiles.Origin()
	}
	if err := s.proposalEvents(c, page); err != nil { // the agenda's events about it (agenda.go)
		return err
	}
	if err := s.addRealization(c, page, f); err != nil { // selected proposals only (realization.go)
		return err
	}
	page.Atmo = s.proposalAtmo(c, v.Series)
	c.Status(status)
	return s.render(c, "idea.html", page)
}

// frSpan names a page's range: "7 jours", "2 h 00 min"….
func frSpan(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		if n := int(d / (24 * time.Hour)); n > 1 {
			return strconv.Itoa(n) + " jours"
		}
		return "24 heures"
	}
	return fr.Duration(d)
}
