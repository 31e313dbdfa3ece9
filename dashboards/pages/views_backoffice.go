package pages

import "github.com/cd06/smartdeal/dashboards/civic"

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
