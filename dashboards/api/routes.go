package api

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
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
		{Method: "PUT", Path: v1 + "/users/:id/role", Tag: "auth", Summary: "Change a user's role (409 for demoting the last administrator)", Access: web.SignedIn, Roles: web.Admins, Body: roleReq{}, Status: 204, Handler: s.setRole},
		{Method: "GET", Path: v1 + "/audit", Tag: "auth", Summary: "Audit log of sensitive actions", Access: web.SignedIn, Roles: web.Admins, Params: []web.Param{web.Q("limit", "integer", "entries (default 100)")}, Response: []civic.AuditEntry{}, Handler: s.auditLog},

		{Method: "GET", Path: v1 + "/themes", Tag: "ideas", Summary: "Themes (the five of the SMART Deal and any added)", Response: []civic.Theme{}, Handler: s.themes},
		{Method: "POST", Path: v1 + "/themes", Tag: "ideas", Summary: "Add a theme", Access: web.SignedIn, Roles: web.Admins, Body: civic.Theme{}, Response: civic.Theme{}, Status: 201, Handler: s.createTheme},
		{Method: "GET", Path: v1 + "/campaigns", Tag: "ideas", Summary: "Campaigns", Response: []app.CampaignBudget{}, Handler: s.campaigns},
		{Method: "POST", Path: v1 + "/campaigns", Tag: "ideas", Summary: "Create a campaign (budget defaults to 1,000,000 €)", Access: web.SignedIn, Roles: web.Admins, Body: campaignReq{}, Response: civic.Campaign{}, Status: 201, Handler: s.createCampaign},
		{Method: "GET", Path: v1 + "/campaigns/:id", Tag: "ideas", Summary: "A campaign with its committed budget", Response: app.CampaignBudget{}, Handler: s.campaign},
		{Method: "POST", Path: v1 + "/campaigns/:id/shortlist", Tag: "ideas", Summary: "Apply the campaign's shortlist rule to published proposals", Access: web.SignedIn, Roles: web.Reviewers, Response: map[string][]string{}, Handler: s.shortlist},

		{Method: "GET", Path: v1 + "/ideas", Tag: "ideas", Summary: "Public proposals", Params: []web.Param{web.Q("campaign", "string", "campaign id"), web.Q("theme", "string", "theme id"), web.Q("status", "string", "status"), web.Q("q", "string", "part of the title or text (plain text, ≤ 100 characters)"), web.Q("sort", "string", "supports (most supported first) or empty (newest first)"), web.Q("limit", "integer", "page size (≤ 500)"), web.Q("offset", "integer", "offset")}, Response: []civic.Proposal{}, Handler: s.ideas},
		{Method: "POST", Path: v1 + "/ideas", Tag: "ideas", Summary: "Submit a proposal", Access: web.SignedIn, Roles: web.Proposers, Assurance: civic.AssuranceEmail, Body: actions.ProposalReq{}, Response: civic.Proposal{}, Status: 201, Limit: "contribution", Handler: s.createIdea},
		{Method: "GET", Path: v1 + "/ideas/:id", Tag: "ideas", Summary: "A proposal", Response: civic.Proposal{}, Handler: s.idea},
		{Method: "GET", Path: v1 + "/ideas/:id/history", Tag: "ideas", Summary: "Status changes with who and when", Response: []civic.StatusChange{}, Handler: s.history},
		{Method: "POST", Path: v1 + "/ideas/:id/status", Tag: "ideas", Summary: "Move a proposal in the workflow (selection is refused over budget); status refused with a reason_code is the moderation refusal that hides it", Access: web.SignedIn, Roles: web.WorkflowRoles, Body: actions.StatusReq{}, Response: civic.Proposal{}, Handler: s.setStatus},
		{Method: "GET", Path: v1 + "/ideas/:id/page", Tag: "ideas", Summary: "A proposal page's data: proposal, votes, linked series (downsampled), missions", Params: []web.Param{web.Q("points", "integer", "points per series (default 500)")}, Response: pageResp{}, Handler: s.page},
		{Method: "GET", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Whether I support this proposal", Access: web.SignedIn, Response: actions.VoteResp{}, Handler: s.myVote},
		{Method: "POST", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Support a proposal (once)", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Response: actions.VoteResp{}, Limit: "vote", Handler: s.vote},
		{Method: "DELETE", Path: v1 + "/ideas/:id/vote", Tag: "votes", Summary: "Withdraw my support", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Response: actions.VoteResp{}, Limit: "vote", Handler: s.unvote},
		{Method: "GET", Path: v1 + "/ideas/:id/comments", Tag: "ideas", Summary: "Approved comments, and the caller's own pending or hidden ones (all for administrators)", Response: []civic.Comment{}, Params: []web.Param{web.Q("limit", "integer", "comments (default 100, at most 500)"), web.Q("offset", "integer", "comments to skip (oldest first)")}, Handler: s.comments},
		{Method: "POST", Path: v1 + "/ideas/:id/comments", Tag: "ideas", Summary: "Comment (published after moderation)", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: commentReq{}, Response: civic.Comment{}, Status: 201, Limit: "contribution", Handler: s.addComment},
		{Method: "PUT", Path: v1 + "/comments/:id/status", Tag: "ideas", Summary: "Moderate a comment: approved, or hidden with a reason_code (seen by its author and administrators only)", Access: web.SignedIn, Roles: web.Admins, Body: moderateReq{}, Response: civic.Comment{}, Handler: s.moderate},
		{Method: "GET", Path: v1 + "/ideas/:id/reviews", Tag: "reviews", Summary: "Expert reviews", Access: web.SignedIn, Roles: web.Reviewers, Response: []civic.Review{}, Handler: s.reviews},
		{Method: "POST", Path: v1 + "/ideas/:id/reviews", Tag: "reviews", Summary: "Score a proposal (impact, feasibility, cost 1–5)", Access: web.SignedIn, Roles: []civic.Role{civic.RoleExpert}, Body: actions.ReviewReq{}, Response: civic.Review{}, Handler: s.review},
		{Method: "GET", Path: v1 + "/ideas/:id/evidence", Tag: "reviews", Summary: "Evidence for reviewers: linked series' 30-day statistics and missions", Access: web.SignedIn, Roles: web.Reviewers, Response: evidenceResp{}, Handler: s.evidence},
		{Method: "GET", Path: v1 + "/ideas/:id/nearby", Tag: "links", Summary: "Sensors within a radius of the proposal's location", Params: []web.Param{web.Q("radius_m", "number", "radius in metres (default 2000, ≤ 50000)")}, Response: []nearbyDevice{}, Handler: s.nearby},

		{Method: "GET", Path: v1 + "/missions", Tag: "missions", Summary: "Missions", Response: []civic.Mission{}, Handler: s.missions},
		{Method: "POST", Path: v1 + "/missions", Tag: "missions", Summary: "Plan a mission (GeoJSON polygon area)", Access: web.SignedIn, Roles: web.MissionPlanners, Body: civic.Mission{}, Response: civic.Mission{}, Status: 201, Handler: s.createMission},
		{Method: "GET", Path: v1 + "/missions/:id", Tag: "missions", Summary: "A mission", Response: civic.Mission{}, Handler: s.mission},
		{Method: "POST", Path: v1 + "/missions/:id/status", Tag: "missions", Summary: "Start, complete or abort a mission (publishes the drone's retained set_mission)", Access: web.SignedIn, Roles: web.MissionOps, Body: missionStatusReq{}, Response: civic.Mission{}, Handler: s.setMissionStatus},
		{Method: "POST", Path: v1 + "/missions/:id/flightlog", Tag: "missions", Summary: "Upload a MAVLink flight log (.tlog, application/octet-stream) into an active or completed mission: every message imported, only readings within the mission's flight window (a log entirely outside is refused, reason outside_window); a cut log is imported up to the cut (truncated.offset)", Access: web.SignedIn, Roles: web.MissionOps, Body: []byte{}, Response: flightLogResp{}, Status: 202, Limit: "upload", Stream: true, Handler: s.flightLog},
		{Method: "GET", Path: v1 + "/missions/:id/track", Tag: "missions", Summary: "The drone's track and flight summary (GeoJSON with ?format=geojson)", Params: []web.Param{web.Q("format", "string", "json (default) or geojson")}, Response: series.Track{}, Handler: s.track},

		{Method: "GET", Path: v1 + "/sites", Tag: "devices", Summary: "Sites", Response: []civic.Site{}, Handler: s.sites},
		{Method: "POST", Path: v1 + "/sites", Tag: "devices", Summary: "Register a site", Access: web.SignedIn, Roles: web.Admins, Body: civic.Site{}, Response: civic.Site{}, Status: 201, Handler: s.createSite},
		{Method: "GET", Path: v1 + "/sites/:id/latest", Tag: "measurements", Summary: "Latest value of every series of a site", Response: []series.Latest{}, Handler: s.latest},
		{Method: "GET", Path: v1 + "/devices", Tag: "devices", Summary: "Devices", Params: []web.Param{web.Q("site", "string", "site id")}, Response: []civic.Device{}, Handler: s.devices},
		{Method: "POST", Path: v1 + "/devices", Tag: "devices", Summary: "Register a device", Access: web.SignedIn, Roles: web.Admins, Body: civic.Device{}, Response: civic.Device{}, Status: 201, Handler: s.createDevice},
		{Method: "GET", Path: v1 + "/devices/:id", Tag: "devices", Summary: "A device", Response: civic.Device{}, Handler: s.device},
		{Method: "POST", Path: v1 + "/devices/:id/credentials", Tag: "devices", Summary: "Provision MQTT credentials: password (shown once), Mosquitto password-file and ACL lines", Access: web.SignedIn, Roles: web.Admins, Response: Credentials{}, Status: 201, Handler: s.credentials},

		{Method: "GET", Path: v1 + "/series", Tag: "measurements", Summary: "Series seen in the last 30 days, with their latest value", Params: []web.Param{web.Q("site", "string", "site id"), web.Q("device", "string", "device id"), web.Q("quantity", "string", "quantity")}, Response: []series.Latest{}, Handler: s.series},
		{Method: "GET", Path: v1 + "/series/:site/:device/:quantity", Tag: "measurements", Summary: "One series over a range, aggregated and downsampled", Params: timeParams, Response: series.SeriesData{}, Handler: s.seriesRange},
		{Method: "GET", Path: v1 + "/links", Tag: "links", Summary: "Links of a proposal or mission to series", Params: []web.Param{web.Q("proposal", "string", "proposal id"), web.Q("mission", "string", "mission id")}, Response: []civic.Link{}, Handler: s.links},
		{Method: "POST", Path: v1 + "/links", Tag: "links", Summary: "Link a proposal or mission to a series", Access: web.SignedIn, Roles: web.Linkers, Body: civic.Link{}, Response: civic.Link{}, Status: 201, Handler: s.createLink},
		{Method: "DELETE", Path: v1 + "/links/:id", Tag: "links", Summary: "Remove a link", Access: web.SignedIn, Roles: web.Linkers, Status: 204, Handler: s.deleteLink},
		{Method: "GET", Path: v1 + "/live", Tag: "measurements", Summary: "Server-Sent Events of new readings for a set of series", Produces: "text/event-stream", Params: []web.Param{{Name: "series", In: "query", Type: "string", Description: "comma-separated site/device/quantity (≤ 50); site/device/* for all of a device", Required: true}}, Handler: s.live},

		{Method: "GET", Path: "/opendata/proposals.json", Tag: "opendata", Summary: "Public proposals (JSON, with licence)", Response: openProposals{}, Handler: s.openProposalsJSON},
		{Method: "GET", Path: "/opendata/proposals.csv", Tag: "opendata", Summary: "Public proposals (CSV, licence column)", Produces: "text/csv", Handler: s.openProposalsCSV},
		{Method: "GET", Path: "/opendata/sites.geojson", Tag: "opendata", Summary: "Sites and their devices (GeoJSON FeatureCollection, with licence)", Produces: "application/geo+json", Handler: s.openSites},
		{Method: "GET", Path: "/opendata/series/:site/:device/:quantity.csv", Tag: "opendata", Summary: "One series (CSV, licence column)", Produces: "text/csv", Params: timeParams, Handler: s.openSeriesCSV},
	}
}
