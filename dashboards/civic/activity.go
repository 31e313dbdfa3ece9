package civic

import (
	"context"
	"time"
)

// The citizen's own space ("Mon compte"): what they contributed, and their
// consent to e-mail about the proposals they wrote or support.

// Activity is what one account contributed, for its owner only: proposals
// (every status, submitted ones too), supports and comments (every
// moderation state), newest first, at most ActivityLimit of each.
type Activity struct {
	Proposals []*ActivityProposal `json:"proposals"`
	Supports  []*ActivitySupport  `json:"supports"`
	Comments  []*ActivityComment  `json:"comments"`
}

// ActivityLimit bounds each list of an Activity.
const ActivityLimit = 500

// ActivityProposal is one of my proposals with the reason recorded with its
// latest status change (the public rejection reason, or a moderator's or
// committee's note), if any.
type ActivityProposal struct {
	Proposal
	StatusReason string `json:"status_reason,omitempty"`
}

// ActivitySupport is a proposal I support. VotingOpen says whether I may
// still withdraw it (status published or shortlisted, campaign running).
type ActivitySupport struct {
	ProposalID string    `json:"proposal_id"`
	Title      string    `json:"title"`
	Status     Status    `json:"status"`
	Votes      int       `json:"votes"`
	VotingOpen bool      `json:"voting_open"`
	Supported  time.Time `json:"supported"`
}

// ActivityComment is one of my comments with its proposal.
type ActivityComment struct {
	Comment
	ProposalTitle  string `json:"proposal_title"`
	ProposalStatus Status `json:"proposal_status"`
}

// NotificationPrefs is a user's consent to status e-mails. Both are off
// until the user turns them on (opt-in: consent is the legal basis); the
// Since times record when consent was given and are cleared when it is
// withdrawn.
type NotificationPrefs struct {
	// OwnProposals: mail me when a proposal I wrote changes status.
	OwnProposals bool       `json:"own_proposals"`
	OwnSince     *time.Time `json:"own_since,omitempty"`
	// SupportedProposals: mail me when a proposal I support changes status.
	SupportedProposals bool       `json:"supported_proposals"`
	SupportedSince     *time.Time `json:"supported_since,omitempty"`
	// Updated is the last change of these preferences (nil: never set).
	Updated *time.Time `json:"updated,omitempty"`
}

// StatusMail is what one status e-mail (an outbox mail of kind MailStatus)
// says, read when it is sent from the current rows: the address, the name,
// the proposal's title, why the person gets it (author or supporter) and
// since when they consented. A person gets one per change, never one per
// support.
type StatusMail struct {
	Email, Name, Title string
	Author             bool
	Since              time.Time
}

// NotificationService stores the consent to status e-mails, queues them in
// the mail outbox (OutboxService) and says at send time whether each is
// still wanted. Sending happens outside any transaction, from the outbox.
type NotificationService interface {
	NotificationPrefs(ctx context.Context, userID string) (*NotificationPrefs, error)
	// SetNotificationPrefs stores own/supported, keeping the consent time of
	// a preference that stays on; source ("page", "api", "unsubscribe") goes
	// into the audit log with the change.
	SetNotificationPrefs(ctx context.Context, userID string, own, supported bool, source string, now time.Time) (*NotificationPrefs, error)
	// EnqueueStatusMails queues in the mail outbox one MailStatus mail per
	// person to tell about proposal reaching status to (the author and
	// supporters who opted in and whose address is verified, except the
	// actor) and returns how many were queued; queuing a change twice adds
	// nothing.
	EnqueueStatusMails(ctx context.Context, proposalID string, to Status, reason, actorID string, now time.Time) (int, error)
	// StatusMailFor reads what the status mail about proposalID to userID
	// says, at send time; ENOTFOUND when it no longer applies: the account
	// was erased or its address is not verified, consent or the support
	// was withdrawn, the proposal is gone or (for a supporter) no longer
	// public.
	StatusMailFor(ctx context.Context, userID, proposalID string) (*StatusMail, error)
	// UnsubscribeSecret is the deployment's HMAC key for unsubscribe links,
	// created on first use and shared by every replica on the database.
	UnsubscribeSecret(ctx context.Context) ([]byte, error)
}

// ActivityService gathers what a user sees of their own contributions.
type ActivityService interface {
	Activity(ctx context.Context, userID string, now time.Time) (*Activity, error)
}
