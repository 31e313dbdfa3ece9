package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// Access says who may call a route.
type Access int

// Access levels; SignedIn routes may further require Roles.
const (
	Public Access = iota
	SignedIn
)

// Param documents a query or path parameter.
type Param struct {
	Name, In, Type, Description string
	Required                    bool
}

// Route is one entry of the route table: it is registered on the app, guarded
// by its Access/Roles and described in the OpenAPI document.
type Route struct {
	Method, Path string // Fiber path, e.g. /api/v1/ideas/:id
	Tag, Summary string
	Access       Access
	Roles        []civic.Role // with SignedIn: the roles allowed (nil: any)
	Body         any          // request body example (schema by reflection)
	Response     any          // 2xx JSON body example
	Status       int          // success status, default 200
	Produces     string       // content type when not JSON
	Params       []Param
	OperationID  string    // overrides the id derived from the path: a page named like a JSON route (/missions and /api/v1/missions) would share it
	limit        string    // "signup", "signin", "vote", "contribution": one counter per kind, shared by its routes
	stream       bool      // the handler reads the body itself, after the guard (bodyguard.go)
	form         *pageForm // posted by an HTML form (pages_forms.go)
	handler      fiber.Handler

	// Assurance is, with SignedIn, the least identity assurance level of the
	// caller's account (civic.AssuranceEmail: a verified address; 0: any).
	Assurance civic.Assurance
}

var (
	admin       = []civic.Role{civic.RoleAdmin}
	citizenish  = []civic.Role{civic.RoleCitizen, civic.RoleAdmin}
	reviewers   = []civic.Role{civic.RoleExpert, civic.RoleAdmin}
	workflow    = []civic.Role{civic.RoleAdmin, civic.RoleExpert, civic.RoleAgent}
	missionOps  = []civic.Role{civic.RoleAgent, civic.RoleRiskManager, civic.RoleAdmin}
	missionPlan = []civic.Role{civic.RoleRiskManager, civic.RoleAdmin}
	linkers     = []civic.Role{civic.RoleAdmin, civic.RoleExpert, civic.RoleRiskManager}
)

func q(name, typ, desc string) Param {
	return Param{Name: name, In: "query", Type: typ, Description: desc}
}

var timeParams = []Param{
	{Name: "start", In: "query", Type: "string", Description: "RFC 3339 start (inclusive)", Required: true},
	{Name: "stop", In: "query", Type: "string", Description: "RFC 3339 stop (exclusive)", Required: true},
	q("agg", "string", "mean (default), min, max or last"),
	q("every", "string", "aggregation window, Go duration (e.g. 5m); widened to respect points"),
	q("points", "integer", "maximum number of points (default 1000, at most 10000)"),
}

// table lists every route of the service.
func (s *Server) table() []*Route {
	const v1 = "/api/v1"
	signInForm, signUpForm, signOutForm, supportForm := s.forms()
	proposalForm, commentForm := s.proposalForm(), s.commentForm()
	deskForm, reviewForm, decisionForm := s.reviewForms()
	accountForm, prefsForm, withdrawForm, deletionForm, unsubscribeForm := s.monCompteForms()
	retour := q(returnField, "string", "same-site path to return to (default /idees)")
	return []*Route{
		{Method: "GET", Path: "/healthz", Tag: "ops", Summary: "Liveness", Produces: "text/plain", handler: s.healthz},
		{Method: "GET", Path: "/readyz", Tag: "ops", Summary: "Readiness: database and InfluxDB answer", Produces: "text/plain", handler: s.readyz},
		{Method: "GET", Path: v1 + "/openapi.json", Tag: "ops", Summary: "This OpenAPI 3 document", handler: s.openapi},

		{Method: "POST", Path: v1 + "/auth/signup", Tag: "auth", Summary: "Create a citizen account", Body: signUpReq{}, Response: civic.User{}, Status: 201, limit: "signup", handler: s.signUp},
		{Method: "POST", Path: v1 + "/auth/signin", Tag: "auth", Summary: "Sign in: a bearer token, or a session cookie and its CSRF token with cookie=true", Body: signInReq{}, Response: signInResp{}, limit: "signin", handler: s.signIn},
		{Method: "POST", Path: v1 + "/auth/signout", Tag: "auth", Summary: "End the current session", Access: SignedIn, Status: 204, handler: s.signOut},
		{Method: "GET", Path: v1 + "/me", Tag: "auth", Summary: "The signed-in account", Access: SignedIn, Response: civic.User{}, handler: s.me},
		{Method: "GET", Path: v1 + "/me/export", Tag: "auth", Summary: "GDPR: download everything stored about me (including my votes)", Access: SignedIn, Response: civic.Export{}, handler: s.exportMe},
		{Method: "DELETE", Path: v1 + "/me", Tag: "auth", Summary: "GDPR: erase my account; my public proposals, comments and reviews stay anonymous, my supports stay counted only where voting has closed (409 for the last administrator)", Access: SignedIn, Status: 204, handler: s.deleteMe},
		{Method: "GET", Path: v1 + "/me/activity", Tag: "auth", Summary: "My proposals (every status, with the reason of the latest decision), the proposals I support (voting_open: I may withdraw) and my comments (every moderation state), newest first, at most 500 of each", Access: SignedIn, Response: civic.Activity{}, handler: s.myActivity},
		{Method: "GET", Path: v1 + "/me/notifications", Tag: "auth", Summary: "My consent to status e-mails (off until I turn it on; the *_since times say when I gave it)", Access: SignedIn, Response: civic.NotificationPrefs{}, handler: s.myNotifications},
		{Method: "PUT", Path: v1 + "/me/notifications", Tag: "auth", Summary: "Give or withdraw my consent to status e-mails about the proposals I wrote and those I support", Access: SignedIn, Body: notificationsReq{}, Response: civic.NotificationPrefs{}, handler: s.putMyNotifications},
		{Method: "PUT", Path: v1 + "/users/:id/role", Tag: "auth", Summary: "Change a user's role (409 for demoting the last administrator)", Access: SignedIn, Roles: admin, Body: roleReq{}, Status: 204, handler: s.setRole},
		{Method: "GET", Path: v1 + "/audit", Tag: "auth", Summary: "Audit log of sensitive actions", Access: SignedIn, Roles: admin, Params: []Param{q("limit", "integer", "entries (default 100)")}, Response: []civic.AuditEntry{}, handler: s.auditLog},

		{Method: "GET", Path: v1 + "/themes", Tag: "ideas", Summary: "Themes (the five of the SMART Deal and any added)", Response: []civic.Theme{}, handler: s.themes},
		{Method: "POST", Path: v1 + "/themes", Tag: "ideas", Summary: "Add a theme", Access: SignedIn, Roles: admin, Body: civic.Theme{}, Response: civic.Theme{}, Status: 201, handler: s.createTheme},
		{Method: "GET", Path: v1 + "/campaigns", Tag: "ideas", Summary: "Campaigns", Response: []campaignView{}, handler: s.campaigns},
		{Method: "POST", Path: v1 + "/campaigns", Tag: "ideas", Summary: "Create a campaign (budget defaults to 1,000,000 €)", Access: SignedIn, Roles: admin, Body: campaignReq{}, Response: civic.Campaign{}, Status: 201, handler: s.createCampaign},
		{Method: "GET", Path: v1 + "/campaigns/:id", Tag: "ideas", Summary: "A campaign with its committed budget", Response: campaignView{}, handler: s.campaign},
		{Method: "POST", Path: v1 + "/campaigns/:id/shortlist", Tag: "ideas", Summary: "Apply the campaign's shortlist rule to published proposals", Access: SignedIn, Roles: reviewers, Response: map[string][]string{}, handler: s.shortlist},

		{Method: "GET", Path: v1 + "/ideas", Tag: "ideas", Summary: "Public proposals", Params: []Param{q("campaign", "string", "campaign id"), q("theme", "string", "theme id"), q("status", "string", "status"), q("limit", "integer", "page size (≤ 500)"), q("offset", "integer", "offset")}, Response: []civic.Proposal{}, handler: s.ideas},
		{Method: "POST", Path: v1 + "/ideas", Tag: "ideas", Summary: "Submit a proposal", Access: SignedIn, Roles: citizenish, Assurance: civic.AssuranceEmail, Body: proposalReq{}, Response: civic.Proposal{}, Status: 201, limit: "contribution", handler: s.createIdea},
		{Method: "GET", Path: v1 + "/ideas/:id", Tag: "ideas", Summary: "A proposal", Response: civic.Proposal{}, handler: s.idea},
		{Method: "GET", Path: v1 + "/ideas/:id/history", Tag: "ideas", Summary: "Status changes with who and when", Response: []civic.StatusChange{}, handler: s.history},
		{Method: "POST", Path: v1 + "/ideas/:id/status", Tag: "ideas", Summary: "Move a proposal in the workflow (selection is refused over budget); status refused with a reason_code is the moderation refusal that hides it", Access: SignedIn, Roles: workflow, Body: statusReq{}, Response: civic.Proposal{}, handler: s.setStatus},
		{Method: "GET", Path: v1 + "/ideas/:id/page", Tag: "ideas", Summary: "A proposal page's data: proposal, votes, linked series (downsampled), missions", Params: []Param{q("points", "integer", "points per series (default 500)")}, Response: pageResp{}, handler: s.page},
		{Method: "GET", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Whether I support this proposal", Access: SignedIn, Response: voteResp{}, handler: s.myVote},
		{Method: "POST", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Support a proposal (once)", Access: SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Response: voteResp{}, limit: "vote", handler: s.vote},
		{Method: "DELETE", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Withdraw my support", Access: SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Response: voteResp{}, limit: "vote", handler: s.unvote},
		{Method: "GET", Path: v1 + "/ideas/:id/comments", Tag: "ideas", Summary: "Approved comments, and the caller's own pending or hidden ones (all for administrators)", Response: []civic.Comment{}, Params: []Param{q("limit", "integer", "comments (default 100, at most 500)"), q("offset", "integer", "comments to skip (oldest first)")}, handler: s.comments},
		{Method: "POST", Path: v1 + "/ideas/:id/comments", Tag: "ideas", Summary: "Comment (published after moderation)", Access: SignedIn, Assurance: civic.AssuranceEmail, Body: commentReq{}, Response: civic.Comment{}, Status: 201, limit: "contribution", handler: s.addComment},
		{Method: "PUT", Path: v1 + "/comments/:id/status", Tag: "ideas", Summary: "Moderate a comment: approved, or hidden with a reason_code (seen by its author and administrators only)", Access: SignedIn, Roles: admin, Body: moderateReq{}, Response: civic.Comment{}, handler: s.moderate},
		{Method: "GET", Path: v1 + "/ideas/:id/reviews", Tag: "reviews", Summary: "Expert reviews", Access: SignedIn, Roles: reviewers, Response: []civic.Review{}, handler: s.reviews},
		{Method: "POST", Path: v1 + "/ideas/:id/reviews", Tag: "reviews", Summary: "Score a proposal (impact, feasibility, cost 1–5)", Access: SignedIn, Roles: []civic.Role{civic.RoleExpert}, Body: reviewReq{}, Response: civic.Review{}, handler: s.review},
		{Method: "GET", Path: v1 + "/ideas/:id/evidence", Tag: "reviews", Summary: "Evidence for reviewers: linked series' 30-day statistics and missions", Access: SignedIn, Roles: reviewers, Response: evidenceResp{}, handler: s.evidence},
		{Method: "GET", Path: v1 + "/ideas/:id/nearby", Tag: "links", Summary: "Sensors within a radius of the proposal's location", Params: []Param{q("radius_m", "number", "radius in metres (default 2000, ≤ 50000)")}, Response: []nearbyDevice{}, handler: s.nearby},

		{Method: "GET", Path: v1 + "/missions", Tag: "missions", Summary: "Missions", Response: []civic.Mission{}, handler: s.missions},
		{Method: "POST", Path: v1 + "/missions", Tag: "missions", Summary: "Plan a mission (GeoJSON polygon area)", Access: SignedIn, Roles: missionPlan, Body: civic.Mission{}, Response: civic.Mission{}, Status: 201, handler: s.createMission},
		{Method: "GET", Path: v1 + "/missions/:id", Tag: "missions", Summary: "A mission", Response: civic.Mission{}, handler: s.mission},
		{Method: "POST", Path: v1 + "/missions/:id/status", Tag: "missions", Summary: "Start, complete or abort a mission (publishes the drone's retained set_mission)", Access: SignedIn, Roles: missionOps, Body: missionStatusReq{}, Response: civic.Mission{}, handler: s.setMissionStatus},
		{Method: "POST", Path: v1 + "/missions/:id/flightlog", Tag: "missions", Summary: "Upload a MAVLink flight log (.tlog, application/octet-stream) into an active or completed mission", Access: SignedIn, Roles: missionOps, Body: []byte{}, Response: flightLogResp{}, Status: 202, limit: "upload", stream: true, handler: s.flightLog},
		{Method: "GET", Path: v1 + "/missions/:id/track", Tag: "missions", Summary: "The drone's track and flight summary (GeoJSON with ?format=geojson)", Params: []Param{q("format", "string", "json (default) or geojson")}, Response: series.Track{}, handler: s.track},

		{Method: "GET", Path: v1 + "/sites", Tag: "devices", Summary: "Sites", Response: []civic.Site{}, handler: s.sites},
		{Method: "POST", Path: v1 + "/sites", Tag: "devices", Summary: "Register a site", Access: SignedIn, Roles: admin, Body: civic.Site{}, Response: civic.Site{}, Status: 201, handler: s.createSite},
		{Method: "GET", Path: v1 + "/sites/:id/latest", Tag: "measurements", Summary: "Latest value of every series of a site", Response: []series.Latest{}, handler: s.latest},
		{Method: "GET", Path: v1 + "/devices", Tag: "devices", Summary: "Devices", Params: []Param{q("site", "string", "site id")}, Response: []civic.Device{}, handler: s.devices},
		{Method: "POST", Path: v1 + "/devices", Tag: "devices", Summary: "Register a device", Access: SignedIn, Roles: admin, Body: civic.Device{}, Response: civic.Device{}, Status: 201, handler: s.createDevice},
		{Method: "GET", Path: v1 + "/devices/:id", Tag: "devices", Summary: "A device", Response: civic.Device{}, handler: s.device},
		{Method: "POST", Path: v1 + "/devices/:id/credentials", Tag: "devices", Summary: "Provision MQTT credentials: password (shown once), Mosquitto password-file and ACL lines", Access: SignedIn, Roles: admin, Response: Credentials{}, Status: 201, handler: s.credentials},

		{Method: "GET", Path: v1 + "/series", Tag: "measurements", Summary: "Series seen in the last 30 days, with their latest value", Params: []Param{q("site", "string", "site id"), q("device", "string", "device id"), q("quantity", "string", "quantity")}, Response: []series.Latest{}, handler: s.series},
		{Method: "GET", Path: v1 + "/series/:site/:device/:quantity", Tag: "measurements", Summary: "One series over a range, aggregated and downsampled", Params: timeParams, Response: series.SeriesData{}, handler: s.seriesRange},
		{Method: "GET", Path: v1 + "/links", Tag: "links", Summary: "Links of a proposal or mission to series", Params: []Param{q("proposal", "string", "proposal id"), q("mission", "string", "mission id")}, Response: []civic.Link{}, handler: s.links},
		{Method: "POST", Path: v1 + "/links", Tag: "links", Summary: "Link a proposal or mission to a series", Access: SignedIn, Roles: linkers, Body: civic.Link{}, Response: civic.Link{}, Status: 201, handler: s.createLink},
		{Method: "DELETE", Path: v1 + "/links/:id", Tag: "links", Summary: "Remove a link", Access: SignedIn, Roles: linkers, Status: 204, handler: s.deleteLink},
		{Method: "GET", Path: v1 + "/live", Tag: "measurements", Summary: "Server-Sent Events of new readings for a set of series", Produces: "text/event-stream", Params: []Param{{Name: "series", In: "query", Type: "string", Description: "comma-separated site/device/quantity (≤ 50); site/device/* for all of a device", Required: true}}, handler: s.live},

		{Method: "GET", Path: "/idees", Tag: "pages", Summary: "Page (HTML, French): public proposals", Produces: "text/html", handler: s.ideasPage},
		// Before /idees/:id, which would take "nouvelle" for an id.
		{Method: "GET", Path: newProposalPath, Tag: "pages", Summary: "Page (HTML, French): proposal form (anonymous visitors are sent to the sign-in page)", Access: SignedIn, Roles: citizenish, Produces: "text/html", form: proposalForm, handler: s.newProposalPage},
		{Method: "POST", Path: newProposalPath, Tag: "pages", Summary: "Proposal form post: the proposal is submitted for moderation like POST /api/v1/ideas, then 303 to its page", Access: SignedIn, Roles: citizenish, Assurance: civic.AssuranceEmail, Body: proposalFormReq{}, Produces: "text/html", Status: 303, form: proposalForm, limit: "contribution", handler: s.proposalPost},
		{Method: "GET", Path: "/idees/:id", Tag: "pages", Summary: "Page (HTML, French): a proposal with its linked measurements and missions", Produces: "text/html", handler: s.ideaPage},
		{Method: "GET", Path: "/missions", Tag: "pages", Summary: "Page (HTML, French): the drone missions for the territory, newest first, with their linked public proposals", Produces: "text/html", OperationID: "get_missions_page", handler: s.missionsPage},
		{Method: "GET", Path: "/missions/:id", Tag: "pages", Summary: "Page (HTML, French): a mission, and once flown the summary of GET /api/v1/missions/{id}/track with a drawing of the track over the mission's area", Produces: "text/html", OperationID: "get_missions_by_id_page", handler: s.missionPage},
		{Method: "GET", Path: "/connexion", Tag: "pages", Summary: "Page (HTML, French): sign-in form", Produces: "text/html", Params: []Param{retour}, handler: s.signInPage},
		{Method: "POST", Path: "/connexion", Tag: "pages", Summary: "Sign-in form post: session cookie, then 303 to retour (same-origin posts only)", Body: signInFormReq{}, Produces: "text/html", Status: 303, limit: "signin", form: signInForm, handler: s.signInPost},
		{Method: "GET", Path: "/inscription", Tag: "pages", Summary: "Page (HTML, French): citizen sign-up form", Produces: "text/html", Params: []Param{retour}, handler: s.signUpPage},
		{Method: "POST", Path: "/inscription", Tag: "pages", Summary: "Sign-up form post: citizen account, session cookie, then 303 to retour (same-origin posts only)", Body: signUpFormReq{}, Produces: "text/html", Status: 303, limit: "signup", form: signUpForm, handler: s.signUpPost},
		{Method: "POST", Path: "/deconnexion", Tag: "pages", Summary: "Sign-out form post, then 303 to retour", Access: SignedIn, Body: signOutFormReq{}, Produces: "text/html", Status: 303, form: signOutForm, handler: s.signOutPost},
		{Method: "POST", Path: "/idees/:id/commentaires", Tag: "pages", Summary: "Comment form post: stored pending moderation like POST /api/v1/ideas/{id}/comments, then 303 to the proposal page", Access: SignedIn, Assurance: civic.AssuranceEmail, Body: commentFormReq{}, Produces: "text/html", Status: 303, form: commentForm, limit: "contribution", handler: s.commentPost},
		{Method: "POST", Path: "/idees/:id/soutien", Tag: "pages", Summary: "Support form post (action soutenir or retirer), then 303 to the proposal page", Access: SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Body: supportFormReq{}, Produces: "text/html", Status: 303, limit: "vote", form: supportForm, handler: s.supportPost},
		{Method: "GET", Path: reviewDeskPath, Tag: "pages", Summary: "Page (HTML, French): the review desk: proposals awaiting review per campaign with their scores so far, and the budget (anonymous visitors are sent to the sign-in page)", Access: SignedIn, Roles: reviewers, Produces: "text/html", form: deskForm, handler: s.reviewDesk},
		{Method: "GET", Path: reviewDeskPath + "/:id", Tag: "pages", Summary: "Page (HTML, French): a proposal for review: the evidence of GET /api/v1/ideas/{id}/evidence, the reviews, the scoring form (experts) and the decision form (administrators)", Access: SignedIn, Roles: reviewers, Produces: "text/html", form: deskForm, handler: s.reviewPage},
		{Method: "POST", Path: reviewDeskPath + "/:id/avis", Tag: "pages", Summary: "Scoring form post: the review is stored like POST /api/v1/ideas/{id}/reviews (a new one replaces the expert's own), then 303 to the review page", Access: SignedIn, Roles: []civic.Role{civic.RoleExpert}, Body: reviewFormReq{}, Produces: "text/html", Status: 303, form: reviewForm, handler: s.reviewPost},
		{Method: "POST", Path: reviewDeskPath + "/:id/decision", Tag: "pages", Summary: "Committee decision form post (decision retenir, rejeter with a public reason, or expertiser): the status changes like POST /api/v1/ideas/{id}/status (refused over budget, 409), then 303 to the review page", Access: SignedIn, Roles: admin, Body: decisionFormReq{}, Produces: "text/html", Status: 303, form: decisionForm, handler: s.decisionPost},
		{Method: "GET", Path: "/mentions-legales", Tag: "pages", Summary: "Page (HTML, French): mentions légales: publisher, director of publication, host, contact (legal.* config)", Produces: "text/html", handler: s.legalPage("mentions-legales.html", "Mentions légales")},
		{Method: "GET", Path: "/confidentialite", Tag: "pages", Summary: "Page (HTML, French): privacy policy: each processing with its purpose, legal basis (GDPR art. 6), retention, recipients; rights and how to use them; the DPO; the CNIL", Produces: "text/html", handler: s.legalPage("confidentialite.html", "Politique de confidentialité")},
		{Method: "GET", Path: "/conditions-utilisation", Tag: "pages", Summary: "Page (HTML, French): terms of use: rules of participation, moderation and its reasons, licence of contributions and open data, liability", Produces: "text/html", handler: s.legalPage("conditions-utilisation.html", "Conditions d'utilisation")},
		{Method: "GET", Path: "/accessibilite", Tag: "pages", Summary: "Page (HTML, French): accessibility statement (RGAA 4.1 model) with the results of the automated axe-core checks of the browser tests", Produces: "text/html", handler: s.legalPage("accessibilite.html", "Déclaration d'accessibilité")},
		{Method: "GET", Path: accountPath, Tag: "pages", Summary: "Page (HTML, French): my account: my proposals with their status and reason, my supports (withdraw while voting is open), my comments (pending ones too), my e-mail preferences, the download of my data and the deletion of my account (anonymous visitors are sent to the sign-in page)", Access: SignedIn, Produces: "text/html", form: accountForm, handler: s.accountPage},
		{Method: "POST", Path: accountPath + "/notifications", Tag: "pages", Summary: "E-mail preferences form post (checkboxes own and supported, value oui): stored like PUT /api/v1/me/notifications, then 303 to /compte", Access: SignedIn, Body: notificationsFormReq{}, Produces: "text/html", Status: 303, form: prefsForm, handler: s.notificationsPost},
		{Method: "POST", Path: accountPath + "/soutiens/:id/retrait", Tag: "pages", Summary: "Withdraw a support from /compte, like DELETE /api/v1/ideas/{id}/vote, then 303 to /compte", Access: SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Body: withdrawFormReq{}, Produces: "text/html", Status: 303, limit: "vote", form: withdrawForm, handler: s.withdrawPost},
		{Method: "GET", Path: deletionPath, Tag: "pages", Summary: "Page (HTML, French): what deleting my account does to my proposals, supports, comments and sessions, and the confirmation form", Access: SignedIn, Produces: "text/html", form: deletionForm, handler: s.deletionPage},
		{Method: "POST", Path: deletionPath, Tag: "pages", Summary: "Account deletion form post: with the right password, the account is erased like DELETE /api/v1/me and signed out, then 303 to /compte/supprime (wrong password: 403, nothing deleted; counts in the sign-in limit)", Access: SignedIn, Body: deletionFormReq{}, Produces: "text/html", Status: 303, limit: "signin", form: deletionForm, handler: s.deletionPost},
		{Method: "GET", Path: deletedPath, Tag: "pages", Summary: "Page (HTML, French): confirmation of an account deletion, right after it (otherwise 303 to /idees)", Produces: "text/html", handler: s.deletedPage},
		{Method: "GET", Path: unsubscribePath + "/:token", Tag: "pages", Summary: "Page (HTML, French) of a status e-mail's unsubscribe link: what the account receives and a button; changes nothing (no sign-in: the signed token names the account)", Produces: "text/html", form: unsubscribeForm, handler: s.unsubscribePage},
		{Method: "POST", Path: unsubscribePath + "/:token", Tag: "pages", Summary: "Unsubscribe the token's account from every status e-mail, without signing in: the page's button (303 to the page) or a mail client's RFC 8058 one-click POST (body List-Unsubscribe=One-Click, answered 200)", Body: unsubscribeFormReq{}, Produces: "text/html", Status: 303, form: unsubscribeForm, handler: s.unsubscribePost},
		{Method: "GET", Path: "/opendata/proposals.json", Tag: "opendata", Summary: "Public proposals (JSON, with licence)", Response: openProposals{}, handler: s.openProposalsJSON},
		{Method: "GET", Path: "/opendata/proposals.csv", Tag: "opendata", Summary: "Public proposals (CSV, licence column)", Produces: "text/csv", handler: s.openProposalsCSV},
		{Method: "GET", Path: "/opendata/sites.geojson", Tag: "opendata", Summary: "Sites and their devices (GeoJSON FeatureCollection, with licence)", Produces: "application/geo+json", handler: s.openSites},
		{Method: "GET", Path: "/opendata/series/:site/:device/:quantity.csv", Tag: "opendata", Summary: "One series (CSV, licence column)", Produces: "text/csv", Params: timeParams, handler: s.openSeriesCSV},
	}
}

// mount registers the middleware and every route of the table.
func (s *Server) mount() {
	s.app.Use(s.metrics.middleware)
	s.app.Use(s.bodyGuard)
	s.app.Use(s.authenticate)
	s.app.Use(s.bodyRead)
	s.app.Use(s.utf8Guard)
	// One limiter per kind: the JSON and form routes of a kind (sign-in and
	// /connexion, vote and /idees/:id/soutien) share its counters.
	limiters := map[string]fiber.Handler{}
	for _, rt := range s.routes {
		hs := []fiber.Handler{guard(rt)}
		l, ok := limiters[rt.limitKind()]
		if !ok {
			l = s.limiter(rt.limitKind())
			limiters[rt.limitKind()] = l
		}
		if l != nil {
			hs = append(hs, l)
		}
		hs = append(hs, rt.handler)
		if rt.form != nil {
			hs = append([]fiber.Handler{s.formErrors(rt.form)}, hs...)
		}
		s.app.Add(rt.Method, rt.Path, hs...)
	}
}

// limitKind is the rate limit a route counts in: its own, or "read" for
// the public GET routes but the operations ones (probes, the OpenAPI
// document).
func (rt *Route) limitKind() string {
	if rt.limit == "" && rt.Method == fiber.MethodGet && rt.Access == Public && rt.Tag != "ops" {
		return "read"
	}
	return rt.limit
}

// openAPIPath turns /ideas/:id into /ideas/{id} (and :quantity.csv into {quantity}.csv).
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, seg := range parts {
		if strings.HasPrefix(seg, ":") {
			name, rest, _ := strings.Cut(seg[1:], ".")
			if rest != "" {
				rest = "." + rest
			}
			parts[i] = "{" + name + "}" + rest
		}
	}
	return strings.Join(parts, "/")
}
