package pages

import (
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/pages/chart"
	"github.com/cd06/smartdeal/dashboards/pages/legal"
)

// One typed view per template: what the handler hands it, so that a field
// the template reads and the handler forgot fails the build of the view or
// the template's first execution in the tests, not silently at a visitor.
// Fields a handler sets only sometimes are pointers or zero values, which
// the templates' {{if}} and {{with}} read as absent.

// Page is what the layout (layout.html: header, notices, footer, script)
// reads; every view embeds it. render fills Nonce, Session (unless set),
// Here (unless set), Notice and Conformity.
type Page struct {
	Title      string
	Nonce      string       // the response's CSP nonce
	Session    *pageSession // the signed-in visitor (browser sessions only)
	Here       string       // where the sign-in and sign-out forms return to
	Notice     string       // the flash message of the previous form post
	Conformity string       // the footer's "Accessibilité : …" (RGAA)
	Error      *formError   // a refused form's message and invalid field
	ImgSrc     string       // an origin the page's images may also come from (a map's tile server)
}

func (p *Page) page() *Page { return p }

// view is a template's data: a struct embedding Page.
type view interface{ page() *Page }

// ideasView is ideas.html: the public proposals.
type ideasView struct {
	Page
	Proposals []*civic.Proposal
	Filter    ideasFilter // the filters, the sort and the pages (ideas_filter.go)
}

// ideaView is idea.html: a proposal with its measurements, missions and
// comments.
type ideaView struct {
	Page
	P                         *civic.Proposal
	Series                    []app.Stats
	Charts                    []chart.View
	Missions                  []missionView
	VotingOpen                bool
	Public, Refused           bool
	Comments                  commentPage
	CommentDraft              string
	SignIn                    signInView
	Range, RangeFrom, RangeTo string // the charts' span, in French

	ExportJSON, ExportCSV string     // the proposal-and-series export over the charts' range
	Place                 *placeView // its location, a small map and the sensors near it (nil without a location)
	// Events are the agenda's events about it (agenda.go).
	Events      []eventRow
	Realization *realizationView // a selected proposal's realization (realization.go)
	// Atmo is the ATMO index of the sites of linked air-quality series (alerts.go).
	Atmo []siteAtmo
}

// missionsView is missions.html.
type missionsView struct {
	Page
	Missions []missionRow
	Total    int
}

// missionView is mission.html: Summary and Track once flown, TrackDown
// when InfluxDB could not be read.
type missionPageView struct {
	Page
	M              missionRow
	Flown, Planned bool
	Started, Ended string
	TrackDown      bool
	Summary        *chart.Flight
	Track          *chart.Track
	// The mission control parts (missionctl.go): the steps the visitor may
	// take, the upload link, the live panel of a mission in flight, the map.
	Steps    []missionStepLink
	Upload   bool
	Live     *missionLive
	Assets   *missionAssets
	AreaJSON string
}

// signInPageView is connexion.html.
type signInPageView struct {
	Page
	SignIn signInView
}

// signUpPageView is inscription.html.
type signUpPageView struct {
	Page
	SignUp signUpView
}

// proposalFormView is nouvelle.html.
type proposalFormView struct {
	Page
	Form proposalView
	Map  locationMapView // the map to click and the communes to name
}

// deskView is expertise.html: the review desk.
type deskView struct {
	Page
	Campaigns []deskCampaign
	Awaiting  int
	Expert    bool
}

// reviewView is expertise_idee.html: a proposal for review.
type reviewView struct {
	Page
	Place                    string
	P                        *civic.Proposal
	Series                   []evidenceRow
	Missions                 []evidenceMission
	Reviews                  []reviewEntry
	Scores                   scoreSummary
	Mine                     bool
	CanScore, IsExpert       bool
	CanDecide                bool
	Criteria                 []criterionView
	Draft                    *reviewDraft
	Campaign                 app.CampaignBudget
	EvidenceFrom, EvidenceTo string
	Choices                  []string // the decisions offered (administrators)
}

// accountView is compte.html: Mon compte.
type accountView struct {
	Page
	User                     *civic.User
	Created                  string
	Proposals                []accountProposal
	Supports                 []accountSupport
	Comments                 []accountComment
	Limit                    int
	Prefs                    *civic.NotificationPrefs
	OwnSince, SupportedSince string
}

// deletionView is compte_suppression.html.
type deletionView struct {
	Page
	User                 *civic.User
	Erasure              erasureCounts
	Expert, Agent, Admin bool
}

// deletedView is compte_supprime.html.
type deletedView struct{ Page }

// unsubscribeView is desabonnement.html.
type unsubscribeView struct {
	Page
	Prefs  *civic.NotificationPrefs
	Action string // where the button posts
}

// errorView is erreur.html: Resend offers a new verification link.
type errorView struct {
	Page
	Resend bool
}

// linkPageView is verification.html and nouveau_mdp.html: what a link opens.
type linkPageView struct {
	Page
	Link linkView
}

// forgotPageView is oubli.html.
type forgotPageView struct {
	Page
	Forgot forgotView
}

// securityPageView is securite.html.
type securityPageView struct {
	Page
	Security securityView
}

// legalPageView is the four legal pages (mentions-legales.html,
// confidentialite.html, conditions-utilisation.html, accessibilite.html);
// the fields after Licence are the privacy policy's and the accessibility
// statement's.
type legalPageView struct {
	Page
	Legal   legal.View
	Licence string
	// confidentialite.html
	SessionTTL, RateWindow     string
	SessionCookie, FlashCookie string
	// accessibilite.html
	Checks                          *legal.AccessibilityChecks
	CheckedOn, AuditRate, AuditDate string
}
