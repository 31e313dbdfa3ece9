package pages

import (
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// flagView is signalement.html: the form that flags a proposal or one of
// its comments.
type flagView struct {
	Page
	P         *civic.Proposal
	CommentID string // "" to flag the proposal itself
	Excerpt   string // the comment's text
	Reasons   []reasonOption
	Note      string
	Field     string // the refused input's id
}

type reasonOption struct {
	Value, Label string
	Checked      bool
}

// moderationView is admin_moderation.html: the queue and the history.
type moderationView struct {
	Page
	Items   []queueRow
	History []historyRow
	Reasons []reasonOption
	// Draft is what was typed in the form of a refused decision (Key names
	// the item).
	Draft decisionDraft
}

type queueRow struct {
	*civic.QueueItem
	Key, KindFR, StatusFR, Date, ISO, Action string
	Flagged, Waiting                         bool
	FlagReasons                              string // "contenu abusif (2), doublon (1)"
}

type historyRow struct {
	*civic.ModerationDecision
	KindFR, DecisionFR, ReasonFR, Date, ISO, Link string
}

type decisionDraft struct {
	Key, Decision, Reason, Note, Field string
}

// adminView is admin.html: the back office's home.
type adminView struct {
	Page
	Queue int // items waiting in the moderation queue (at most 100 counted)
}

// peopleView is admin_personnes.html: the search form and its results.
type peopleView struct {
	Page
	Query, Role, Blocked string // the search as typed
	Roles                []roleOption
	People               []personRow
	Prev, Next           string // links to the neighbouring pages
	PageNo               int    // 1-based page number
}

type roleOption struct {
	Value, Label string
	Selected     bool
}

type personRow struct {
	*civic.Person
	RoleFR, Since, ISO, Link, BlockedOn string
}

// personView is admin_personne.html: one account, its role and block forms,
// and its latest audited actions.
type personView struct {
	Page
	P      personRow
	Roles  []roleOption
	Self   bool // the visitor's own account: no block form
	Reason string
	Field  string
	Audit  []auditRow
}

type auditRow struct {
	*civic.AuditEntry
	Date, ISO, ActorName, ActorLink string
}

// auditView is admin_journal.html: the filter form and the entries.
type auditView struct {
	Page
	Actor, Action, From, To string
	Entries                 []auditRow
	Field                   string
}

// campaignsView is admin_appels.html: the campaigns with their actions, the
// creation form and the theme form.
type campaignsView struct {
	Page
	Campaigns []campaignRow
	Themes    []themeOption
	Draft     campaignDraft
	Theme     civic.Theme // the theme form as typed
	Field     string      // the refused input's id
}

type campaignRow struct {
	app.CampaignBudget
	KindFR, Period, Rule, Themes string
	Running                      bool
}

type themeOption struct {
	ID, Name string
	Checked  bool
}

type campaignDraft struct {
	ID, Name, Kind, Starts, Ends, Budget, TopN, MinVotes string
}

// resultsView is resultats.html: a campaign's public results.
type resultsView struct {
	Page
	R        *civic.Results
	Kind     string
	Period   string
	Selected []resultRow
	Rejected []resultRow
	Ratio    string // committed / budget, in French ("42 %")
}

type resultRow struct {
	*civic.Proposal
	StatusFR string
}
