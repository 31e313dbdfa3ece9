package api

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

var (
	admin       = []civic.Role{civic.RoleAdmin}
	citizenish  = []civic.Role{civic.RoleCitizen, civic.RoleAdmin}
	reviewers   = []civic.Role{civic.RoleExpert, civic.RoleAdmin}
	workflow    = []civic.Role{civic.RoleAdmin, civic.RoleExpert, civic.RoleAgent}
	missionOps  = []civic.Role{civic.RoleAgent, civic.RoleRiskManager, civic.RoleAdmin}
	missionPlan = []civic.Role{civic.RoleRiskManager, civic.RoleAdmin}
	linkers     = []civic.Role{civic.RoleAdmin, civic.RoleExpert, civic.RoleRiskManager}
)

var timeParams = []web.Param{
	{Name: "start", In: "query", Type: "string", Description: "RFC 3339 start (inclusive)", Required: true},
	{Name: "stop", In: "query", Type: "string", Description: "RFC 3339 stop (exclusive)", Required: true},
	web.Q("agg", "string", "mean (default), min, max or last"),
	web.Q("every", "string", "aggregation window, Go duration (e.g. 5m); widened to respect points"),
	web.Q("points", "integer", "maximum number of points (default 1000, at most 10000)"),
}

// table lists every route of the service.
func (s *Server) table() []*web.Route {
	const v1 = "/api/v1"
	signInForm, signUpForm, signOutForm, supportForm := s.forms()
	proposalForm, commentForm := s.proposalForm(), s.commentForm()
	deskForm, reviewForm, decisionForm := s.reviewForms()
	accountForm, prefsForm, withdrawForm, deletionForm, unsubscribeForm := s.monCompteForms()
	retour := web.Q(returnField, "string", "same-site path to return to (default /idees)")
	return []*web.Route{
		{Method: "GET", Path: "/healthz", Tag: "ops", Summary: "Liveness", Produces: "text/plain", Handler: s.healthz},
		{Method: "GET", Path: "/readyz", Tag: "ops", Summary: "Readiness: database and InfluxDB answer", Produces: "text/plain", Handler: s.readyz},
		{Method: "GET", Path: v1 + "/openapi.json", Tag: "ops", Summary: "This OpenAPI 3 document", Handler: s.openapi},

		{Method: "POST", Path: v1 + "/auth/signup", Tag: "auth", Summary: "Create a citizen account", Body: actions.SignUpReq{}, Response: civic.User{}, Status: 201, Limit: "signup", Handler: s.signUp},
		{Method: "POST", Path: v1 + "/auth/signin", Tag: "auth", Summary: "Sign in: a bearer token, or a session cookie and its CSRF token with cookie=true", Body: signInReq{}, Response: actions.SignInResp{}, Limit: "signin", Handler: s.signIn},
		{Method: "POST", Path: v1 + "/auth/signout", Tag: "auth", Summary: "End the current session", Access: web.SignedIn, Status: 204, Handler: s.signOut},
		{Method: "GET", Path: v1 + "/me", Tag: "auth", Summary: "The signed-in account", Access: web.SignedIn, Response: civic.User{}, Handler: s.me},
		{Method: "GET", Path: v1 + "/me/export", Tag: "auth", Summary: "GDPR: download everything stored about me (including my votes)", Access: web.SignedIn, Response: civic.Export{}, Handler: s.exportMe},
		{Method: "DELETE", Path: v1 + "/me", Tag: "auth", Summary: "GDPR: erase my account; my public proposals, comments and reviews stay anonymous, my supports stay counted only where voting has closed (409 for the last administrator)", Access: web.SignedIn, Status: 204, Handler: s.deleteMe},
		{Method: "GET", Path: v1 + "/me/activity", Tag: "auth", Summary: "My proposals (every status, with the reason of the latest decision), the proposals I support (voting_open: I may withdraw) and my comments (every moderation state), newest first, at most 500 of each", Access: web.SignedIn, Response: civic.Activity{}, Handler: s.myActivity},
		{Method: "GET", Path: v1 + "/me/notifications", Tag: "auth", Summary: "My consent to status e-mails (off until I turn it on; the *_since times say when I gave it)", Access: web.SignedIn, Response: civic.NotificationPrefs{}, Handler: s.myNotifications},
		{Method: "PUT", Path: v1 + "/me/notifications", Tag: "auth", Summary: "Give or withdraw my consent to status e-mails about the proposals I wrote and those I support", Access: web.SignedIn, Body: actions.NotificationsReq{}, Response: civic.NotificationPrefs{}, Handler: s.putMyNotifications},
		{Method: "PUT", Path: v1 + "/users/:id/role", Tag: "auth", Summary: "Change a user's role (409 for demoting the last administrator)", Access: web.SignedIn, Roles: admin, Body: roleReq{}, Status: 204, Handler: s.setRole},
		{Method: "GET", Path: v1 + "/audit", Tag: "auth", Summary: "Audit log of sensitive actions", Access: web.SignedIn, Roles: admin, Params: []web.Param{web.Q("limit", "integer", "entries (default 100)")}, Response: []civic.AuditEntry{}, Handler: s.auditLog},

		{Method: "GET", Path: v1 + "/themes", Tag: "ideas", Summary: "Themes (the five of the SMART Deal and any added)", Response: []civic.Theme{}, Handler: s.themes},
		{Method: "POST", Path: v1 + "/themes", Tag: "ideas", Summary: "Add a theme", Access: web.SignedIn, Roles: admin, Body: civic.Theme{}, Response: civic.Theme{}, Status: 201, Handler: s.createTheme},
		{Method: "GET", Path: v1 + "/campaigns", Tag: "ideas", Summary: "Campaigns", Response: []campaignView{}, Handler: s.campaigns},
		{Method: "POST", Path: v1 + "/campaigns", Tag: "ideas", Summary: "Create a campaign (budget defaults to 1,000,000 €)", Access: web.SignedIn, Roles: admin, Body: campaignReq{}, Response: civic.Campaign{}, Status: 201, Handler: s.createCampaign},
		{Method: "GET", Path: v1 + "/campaigns/:id", Tag: "ideas", Summary: "A campaign with its committed budget", Response: campaignView{}, Handler: s.campaign},
		{Method: "POST", Path: v1 + "/campaigns/:id/shortlist", Tag: "ideas", Summary: "Apply the campaign's shortlist rule to published proposals", Access: web.SignedIn, Roles: reviewers, Response: map[string][]string{}, Handler: s.shortlist},

		{Method: "GET", Path: v1 + "/ideas", Tag: "ideas", Summary: "Public proposals", Params: []web.Param{web.Q("campaign", "string", "campaign id"), web.Q("theme", "string", "theme id"), web.Q("status", "string", "status"), web.Q("limit", "integer", "page size (≤ 500)"), web.Q("offset", "integer", "offset")}, Response: []civic.Proposal{}, Handler: s.ideas},
		{Method: "POST", Path: v1 + "/ideas", Tag: "ideas", Summary: "Submit a proposal", Access: web.SignedIn, Roles: citizenish, Assurance: civic.AssuranceEmail, Body: actions.ProposalReq{}, Response: civic.Proposal{}, Status: 201, Limit: "contribution", Handler: s.createIdea},
		{Method: "GET", Path: v1 + "/ideas/:id", Tag: "ideas", Summary: "A proposal", Response: civic.Proposal{}, Handler: s.idea},
		{Method: "GET", Path: v1 + "/ideas/:id/history", Tag: "ideas", Summary: "Status changes with who and when", Response: []civic.StatusChange{}, Handler: s.history},
		{Method: "POST", Path: v1 + "/ideas/:id/status", Tag: "ideas", Summary: "Move a proposal in the workflow (selection is refused over budget); status refused with a reason_code is the moderation refusal that hides it", Access: web.SignedIn, Roles: workflow, Body: actions.StatusReq{}, Response: civic.Proposal{}, Handler: s.setStatus},
		{Method: "GET", Path: v1 + "/ideas/:id/page", Tag: "ideas", Summary: "A proposal page's data: proposal, votes, linked series (downsampled), missions", Params: []web.Param{web.Q("points", "integer", "points per series (default 500)")}, Response: pageResp{}, Handler: s.page},
		{Method: "GET", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Whether I support this proposal", Access: web.SignedIn, Response: actions.VoteResp{}, Handler: s.myVote},
		{Method: "POST", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Support a proposal (once)", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Response: actions.VoteResp{}, Limit: "vote", Handler: s.vote},
		{Method: "DELETE", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Withdraw my support", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Response: actions.VoteResp{}, Limit: "vote", Handler: s.unvote},
		{Method: "GET", Path: v1 + "/ideas/:id/comments", Tag: "ideas", Summary: "Approved comments, and the caller's own pending or hidden ones (all for administrators)", Response: []civic.Comment{}, Params: []web.Param{web.Q("limit", "integer", "comments (default 100, at most 500)"), web.Q("offset", "integer", "comments to skip (oldest first)")}, Handler: s.comments},
		{Method: "POST", Path: v1 + "/ideas/:id/comments", Tag: "ideas", Summary: "Comment (published after moderation)", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: commentReq{}, Response: civic.Comment{}, Status: 201, Limit: "contribution", Handler: s.addComment},
		{Method: "PUT", Path: v1 + "/comments/:id/status", Tag: "ideas", Summary: "Moderate a comment: approved, or hidden with a reason_code (seen by its author and administrators only)", Access: web.SignedIn, Roles: admin, Body: moderateReq{}, Response: civic.Comment{}, Handler: s.moderate},
		{Method: "GET", Path: v1 + "/ideas/:id/reviews", Tag: "reviews", Summary: "Expert reviews", Access: web.SignedIn, Roles: reviewers, Response: []civic.Review{}, Handler: s.reviews},
		{Method: "POST", Path: v1 + "/ideas/:id/reviews", Tag: "reviews", Summary: "Score a proposal (impact, feasibility, cost 1–5)", Access: web.SignedIn, Roles: []civic.Role{civic.RoleExpert}, Body: actions.ReviewReq{}, Response: civic.Review{}, Handler: s.review},
		{Method: "GET", Path: v1 + "/ideas/:id/evidence", Tag: "reviews", Summary: "Evidence for reviewers: linked series' 30-day statistics and missions", Access: web.SignedIn, Roles: reviewers, Response: evidenceResp{}, Handler: s.evidence},
		{Method: "GET", Path: v1 + "/ideas/:id/nearby", Tag: "links", Summary: "Sensors within a radius of the proposal's location", Params: []web.Param{web.Q("radius_m", "number", "radius in metres (default 2000, ≤ 50000)")}, Response: []nearbyDevice{}, Handler: s.nearby},

		{Method: "GET", Path: v1 + "/missions", Tag: "missions", Summary: "Missions", Response: []civic.Mission{}, Handler: s.missions},
		{Method: "POST", Path: v1 + "/missions", Tag: "missions", Summary: "Plan a mission (GeoJSON polygon area)", Access: web.SignedIn, Roles: missionPlan, Body: civic.Mission{}, Response: civic.Mission{}, Status: 201, Handler: s.createMission},
		{Method: "GET", Path: v1 + "/missions/:id", Tag: "missions", Summary: "A mission", Response: civic.Mission{}, Handler: s.mission},
		{Method: "POST", Path: v1 + "/missions/:id/status", Tag: "missions", Summary: "Start, complete or abort a mission (publishes the drone's retained set_mission)", Access: web.SignedIn, Roles: missionOps, Body: missionStatusReq{}, Response: civic.Mission{}, Handler: s.setMissionStatus},
		{Method: "POST", Path: v1 + "/missions/:id/flightlog", Tag: "missions", Summary: "Upload a MAVLink flight log (.tlog, application/octet-stream) into an active or completed mission", Access: web.SignedIn, Roles: missionOps, Body: []byte{}, Response: flightLogResp{}, Status: 202, Limit: "upload", Stream: true, Handler: s.flightLog},
		{Method: "GET", Path: v1 + "/missions/:id/track", Tag: "missions", Summary: "The drone's track and flight summary (GeoJSON with ?format=geojson)", Params: []web.Param{web.Q("format", "string", "json (default) or geojson")}, Response: series.Track{}, Handler: s.track},

		{Method: "GET", Path: v1 + "/sites", Tag: "devices", Summary: "Sites", Response: []civic.Site{}, Handler: s.sites},
		{Method: "POST", Path: v1 + "/sites", Tag: "devices", Summary: "Register a site", Access: web.SignedIn, Roles: admin, Body: civic.Site{}, Response: civic.Site{}, Status: 201, Handler: s.createSite},
		{Method: "GET", Path: v1 + "/sites/:id/latest", Tag: "measurements", Summary: "Latest value of every series of a site", Response: []series.Latest{}, Handler: s.latest},
		{Method: "GET", Path: v1 + "/devices", Tag: "devices", Summary: "Devices", Params: []web.Param{web.Q("site", "string", "site id")}, Response: []civic.Device{}, Handler: s.devices},
		{Method: "POST", Path: v1 + "/devices", Tag: "devices", Summary: "Register a device", Access: web.SignedIn, Roles: admin, Body: civic.Device{}, Response: civic.Device{}, Status: 201, Handler: s.createDevice},
		{Method: "GET", Path: v1 + "/devices/:id", Tag: "devices", Summary: "A device", Response: civic.Device{}, Handler: s.device},
		{Method: "POST", Path: v1 + "/devices/:id/credentials", Tag: "devices", Summary: "Provision MQTT credentials: password (shown once), Mosquitto password-file and ACL lines", Access: web.SignedIn, Roles: admin, Response: Credentials{}, Status: 201, Handler: s.credentials},

		{Method: "GET", Path: v1 + "/series", Tag: "measurements", Summary: "Series seen in the last 30 days, with their latest value", Params: []web.Param{web.Q("site", "string", "site id"), web.Q("device", "string", "device id"), web.Q("quantity", "string", "quantity")}, Response: []series.Latest{}, Handler: s.series},
		{Method: "GET", Path: v1 + "/series/:site/:device/:quantity", Tag: "measurements", Summary: "One series over a range, aggregated and downsampled", Params: timeParams, Response: series.SeriesData{}, Handler: s.seriesRange},
		{Method: "GET", Path: v1 + "/links", Tag: "links", Summary: "Links of a proposal or mission to series", Params: []web.Param{web.Q("proposal", "string", "proposal id"), web.Q("mission", "string", "mission id")}, Response: []civic.Link{}, Handler: s.links},
		{Method: "POST", Path: v1 + "/links", Tag: "links", Summary: "Link a proposal or mission to a series", Access: web.SignedIn, Roles: linkers, Body: civic.Link{}, Response: civic.Link{}, Status: 201, Handler: s.createLink},
		{Method: "DELETE", Path: v1 + "/links/:id", Tag: "links", Summary: "Remove a link", Access: web.SignedIn, Roles: linkers, Status: 204, Handler: s.deleteLink},
		{Method: "GET", Path: v1 + "/live", Tag: "measurements", Summary: "Server-Sent Events of new readings for a set of series", Produces: "text/event-stream", Params: []web.Param{{Name: "series", In: "query", Type: "string", Description: "comma-separated site/device/quantity (≤ 50); site/device/* for all of a device", Required: true}}, Handler: s.live},

		{Method: "GET", Path: "/idees", Tag: "pages", Summary: "Page (HTML, French): public proposals", Produces: "text/html", Handler: s.ideasPage},
		// Before /idees/:id, which would take "nouvelle" for an id.
		{Method: "GET", Path: newProposalPath, Tag: "pages", Summary: "Page (HTML, French): proposal form (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Roles: citizenish, Produces: "text/html", Form: proposalForm, Handler: s.newProposalPage},
		{Method: "POST", Path: newProposalPath, Tag: "pages", Summary: "Proposal form post: the proposal is submitted for moderation like POST /api/v1/ideas, then 303 to its page", Access: web.SignedIn, Roles: citizenish, Assurance: civic.AssuranceEmail, Body: proposalFormReq{}, Produces: "text/html", Status: 303, Form: proposalForm, Limit: "contribution", Handler: s.proposalPost},
		{Method: "GET", Path: "/idees/:id", Tag: "pages", Summary: "Page (HTML, French): a proposal with its linked measurements and missions", Produces: "text/html", Handler: s.ideaPage},
		{Method: "GET", Path: "/missions", Tag: "pages", Summary: "Page (HTML, French): the drone missions for the territory, newest first, with their linked public proposals", Produces: "text/html", OperationID: "get_missions_page", Handler: s.missionsPage},
		{Method: "GET", Path: "/missions/:id", Tag: "pages", Summary: "Page (HTML, French): a mission, and once flown the summary of GET /api/v1/missions/{id}/track with a drawing of the track over the mission's area", Produces: "text/html", OperationID: "get_missions_by_id_page", Handler: s.missionPage},
		{Method: "GET", Path: "/connexion", Tag: "pages", Summary: "Page (HTML, French): sign-in form", Produces: "text/html", Params: []web.Param{retour}, Handler: s.signInPage},
		{Method: "POST", Path: "/connexion", Tag: "pages", Summary: "Sign-in form post: session cookie, then 303 to retour (same-origin posts only)", Body: signInFormReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: signInForm, Handler: s.signInPost},
		{Method: "GET", Path: "/inscription", Tag: "pages", Summary: "Page (HTML, French): citizen sign-up form", Produces: "text/html", Params: []web.Param{retour}, Handler: s.signUpPage},
		{Method: "POST", Path: "/inscription", Tag: "pages", Summary: "Sign-up form post: citizen account, session cookie, then 303 to retour (same-origin posts only)", Body: signUpFormReq{}, Produces: "text/html", Status: 303, Limit: "signup", Form: signUpForm, Handler: s.signUpPost},
		{Method: "POST", Path: "/deconnexion", Tag: "pages", Summary: "Sign-out form post, then 303 to retour", Access: web.SignedIn, Body: signOutFormReq{}, Produces: "text/html", Status: 303, Form: signOutForm, Handler: s.signOutPost},
		{Method: "POST", Path: "/idees/:id/commentaires", Tag: "pages", Summary: "Comment form post: stored pending moderation like POST /api/v1/ideas/{id}/comments, then 303 to the proposal page", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: commentFormReq{}, Produces: "text/html", Status: 303, Form: commentForm, Limit: "contribution", Handler: s.commentPost},
		{Method: "POST", Path: "/idees/:id/soutien", Tag: "pages", Summary: "Support form post (action soutenir or retirer), then 303 to the proposal page", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Body: supportFormReq{}, Produces: "text/html", Status: 303, Limit: "vote", Form: supportForm, Handler: s.supportPost},
		{Method: "GET", Path: reviewDeskPath, Tag: "pages", Summary: "Page (HTML, French): the review desk: proposals awaiting review per campaign with their scores so far, and the budget (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Roles: reviewers, Produces: "text/html", Form: deskForm, Handler: s.reviewDesk},
		{Method: "GET", Path: reviewDeskPath + "/:id", Tag: "pages", Summary: "Page (HTML, French): a proposal for review: the evidence of GET /api/v1/ideas/{id}/evidence, the reviews, the scoring form (experts) and the decision form (administrators)", Access: web.SignedIn, Roles: reviewers, Produces: "text/html", Form: deskForm, Handler: s.reviewPage},
		{Method: "POST", Path: reviewDeskPath + "/:id/avis", Tag: "pages", Summary: "Scoring form post: the review is stored like POST /api/v1/ideas/{id}/reviews (a new one replaces the expert's own), then 303 to the review page", Access: web.SignedIn, Roles: []civic.Role{civic.RoleExpert}, Body: reviewFormReq{}, Produces: "text/html", Status: 303, Form: reviewForm, Handler: s.reviewPost},
		{Method: "POST", Path: reviewDeskPath + "/:id/decision", Tag: "pages", Summary: "Committee decision form post (decision retenir, rejeter with a public reason, or expertiser): the status changes like POST /api/v1/ideas/{id}/status (refused over budget, 409), then 303 to the review page", Access: web.SignedIn, Roles: admin, Body: decisionFormReq{}, Produces: "text/html", Status: 303, Form: decisionForm, Handler: s.decisionPost},
		{Method: "GET", Path: "/mentions-legales", Tag: "pages", Summary: "Page (HTML, French): mentions légales: publisher, director of publication, host, contact (legal.* config)", Produces: "text/html", Handler: s.legalPage("mentions-legales.html", "Mentions légales")},
		{Method: "GET", Path: "/confidentialite", Tag: "pages", Summary: "Page (HTML, French): privacy policy: each processing with its purpose, legal basis (GDPR art. 6), retention, recipients; rights and how to use them; the DPO; the CNIL", Produces: "text/html", Handler: s.legalPage("confidentialite.html", "Politique de confidentialité")},
		{Method: "GET", Path: "/conditions-utilisation", Tag: "pages", Summary: "Page (HTML, French): terms of use: rules of participation, moderation and its reasons, licence of contributions and open data, liability", Produces: "text/html", Handler: s.legalPage("conditions-utilisation.html", "Conditions d'utilisation")},
		{Method: "GET", Path: "/accessibilite", Tag: "pages", Summary: "Page (HTML, French): accessibility statement (RGAA 4.1 model) with the results of the automated axe-core checks of the browser tests", Produces: "text/html", Handler: s.legalPage("accessibilite.html", "Déclaration d'accessibilité")},
		{Method: "GET", Path: accountPath, Tag: "pages", Summary: "Page (HTML, French): my account: my proposals with their status and reason, my supports (withdraw while voting is open), my comments (pending ones too), my e-mail preferences, the download of my data and the deletion of my account (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Produces: "text/html", Form: accountForm, Handler: s.accountPage},
		{Method: "POST", Path: accountPath + "/notifications", Tag: "pages", Summary: "E-mail preferences form post (checkboxes own and supported, value oui): stored like PUT /api/v1/me/notifications, then 303 to /compte", Access: web.SignedIn, Body: notificationsFormReq{}, Produces: "text/html", Status: 303, Form: prefsForm, Handler: s.notificationsPost},
		{Method: "POST", Path: accountPath + "/soutiens/:id/retrait", Tag: "pages", Summary: "Withdraw a support from /compte, like DELETE /api/v1/ideas/{id}/vote, then 303 to /compte", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Body: withdrawFormReq{}, Produces: "text/html", Status: 303, Limit: "vote", Form: withdrawForm, Handler: s.withdrawPost},
		{Method: "GET", Path: deletionPath, Tag: "pages", Summary: "Page (HTML, French): what deleting my account does to my proposals, supports, comments and sessions, and the confirmation form", Access: web.SignedIn, Produces: "text/html", Form: deletionForm, Handler: s.deletionPage},
		{Method: "POST", Path: deletionPath, Tag: "pages", Summary: "Account deletion form post: with the right password, the account is erased like DELETE /api/v1/me and signed out, then 303 to /compte/supprime (wrong password: 403, nothing deleted; counts in the sign-in limit)", Access: web.SignedIn, Body: deletionFormReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: deletionForm, Handler: s.deletionPost},
		{Method: "GET", Path: deletedPath, Tag: "pages", Summary: "Page (HTML, French): confirmation of an account deletion, right after it (otherwise 303 to /idees)", Produces: "text/html", Handler: s.deletedPage},
		{Method: "GET", Path: actions.UnsubscribePath + "/:token", Tag: "pages", Summary: "Page (HTML, French) of a status e-mail's unsubscribe link: what the account receives and a button; changes nothing (no sign-in: the signed token names the account)", Produces: "text/html", Form: unsubscribeForm, Handler: s.unsubscribePage},
		{Method: "POST", Path: actions.UnsubscribePath + "/:token", Tag: "pages", Summary: "Unsubscribe the token's account from every status e-mail, without signing in: the page's button (303 to the page) or a mail client's RFC 8058 one-click POST (body List-Unsubscribe=One-Click, answered 200)", Body: unsubscribeFormReq{}, Produces: "text/html", Status: 303, Form: unsubscribeForm, Handler: s.unsubscribePost},
		{Method: "GET", Path: "/opendata/proposals.json", Tag: "opendata", Summary: "Public proposals (JSON, with licence)", Response: openProposals{}, Handler: s.openProposalsJSON},
		{Method: "GET", Path: "/opendata/proposals.csv", Tag: "opendata", Summary: "Public proposals (CSV, licence column)", Produces: "text/csv", Handler: s.openProposalsCSV},
		{Method: "GET", Path: "/opendata/sites.geojson", Tag: "opendata", Summary: "Sites and their devices (GeoJSON FeatureCollection, with licence)", Produces: "application/geo+json", Handler: s.openSites},
		{Method: "GET", Path: "/opendata/series/:site/:device/:quantity.csv", Tag: "opendata", Summary: "One series (CSV, licence column)", Produces: "text/csv", Params: timeParams, Handler: s.openSeriesCSV},
	}
}
