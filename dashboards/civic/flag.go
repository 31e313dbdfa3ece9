package civic

import (
	"context"
	"strings"
	"time"
)

// Flags and the moderation queue. A signed-in citizen flags ("signaler") a
// public proposal or an approved comment with a reason of the moderation's
// closed list (ModerationReason); each person flags an item once. The
// moderators' queue holds what waits for them: submitted proposals, pending
// comments, and published items with open flags. Every moderation decision
// (approve, keep, refuse) is kept in the history with the flags it closed;
// a refusal's reason and note are mailed to the author.

// TargetKind is what a flag or a moderation decision is about.
type TargetKind string

// The moderated kinds of content.
const (
	TargetProposal TargetKind = "proposal"
	TargetComment  TargetKind = "comment"
)

// Valid reports whether k is a known kind.
func (k TargetKind) Valid() bool { return k == TargetProposal || k == TargetComment }

// MaxFlagNote bounds the note of a flag, in characters.
const MaxFlagNote = 500

// Flag is one person's report of a proposal or a comment.
type Flag struct {
	ID       string           `json:"id"`
	Kind     TargetKind       `json:"kind"`
	TargetID string           `json:"target_id"`
	UserID   string           `json:"-"`
	Reason   ModerationReason `json:"reason_code"`
	Note     string           `json:"note,omitempty"`
	Created  time.Time        `json:"created"`
}

// Validate checks the kind, the reason code (field reason_code) and trims
// the note (field note, at most MaxFlagNote characters).
func (f *Flag) Validate() error {
	if !f.Kind.Valid() {
		return FieldError("kind", "want proposal or comment")
	}
	if f.Reason == "" {
		return FieldError("reason_code", "required to flag: want one of %s", reasonList())
	}
	if !f.Reason.Valid() {
		return FieldError("reason_code", "unknown reason code %q: want one of %s", truncate(string(f.Reason), 40), reasonList())
	}
	f.Note = strings.TrimSpace(f.Note)
	return checkText("note", f.Note, 0, MaxFlagNote)
}

// CheckFlag decides whether u may flag an item written by authorID that is
// public (listed) or not: what u cannot see does not exist (ENOTFOUND, the
// words of an unknown id), and nobody flags their own contribution.
func CheckFlag(u *User, authorID string, public bool) error {
	if !public {
		return Errorf(ENOTFOUND, "not found")
	}
	if Authored(u, authorID) {
		return Errorf(EFORBIDDEN, "you cannot flag your own contribution")
	}
	return nil
}

// Decision is a moderator's verdict on an item of the queue.
type Decision string

// The decisions.
const (
	DecisionApprove Decision = "approve" // a submitted proposal is published, a pending comment approved
	DecisionKeep    Decision = "keep"    // a flagged public item stays: its open flags are closed
	DecisionRefuse  Decision = "refuse"  // refused (a proposal) or hidden (a comment), with a Moderation
)

// Valid reports whether d is a known decision.
func (d Decision) Valid() bool {
	return d == DecisionApprove || d == DecisionKeep || d == DecisionRefuse
}

// DecisionFor is the decision a moderation step records: from the status
// an item had to the one it gets. A refusal refuses; a proposal leaving
// submitted or a comment leaving pending is approved; anything else that
// stays public is kept.
func DecisionFor(refused, wasWaiting bool) Decision {
	switch {
	case refused:
		return DecisionRefuse
	case wasWaiting:
		return DecisionApprove
	}
	return DecisionKeep
}

// QueueItem is one entry of the moderation queue.
type QueueItem struct {
	Kind       TargetKind `json:"kind"`
	ID         string     `json:"id"`
	ProposalID string     `json:"proposal_id"`
	Title      string     `json:"title"` // the proposal's (a comment's proposal for a comment)
	Body       string     `json:"body"`
	AuthorID   string     `json:"author_id,omitempty"`
	AuthorName string     `json:"author_name,omitempty"`
	Status     string     `json:"status"` // the proposal's or the comment's status
	Created    time.Time  `json:"created"`
	// Flags counts the open flags, by reason in Reasons.
	Flags   int                      `json:"flags"`
	Reasons map[ModerationReason]int `json:"flag_reasons,omitempty"`
	// Notes are the flaggers' notes (at most a few, newest first).
	Notes []string `json:"flag_notes,omitempty"`
}

// Waiting reports whether the item has never been moderated (a submitted
// proposal, a pending comment) rather than flagged once public.
func (q *QueueItem) Waiting() bool {
	return q.Status == string(StatusSubmitted) || q.Status == string(CommentPending)
}

// ModerationDecision is one entry of the moderation history.
type ModerationDecision struct {
	ID         string           `json:"id"`
	Kind       TargetKind       `json:"kind"`
	TargetID   string           `json:"target_id"`
	ProposalID string           `json:"proposal_id"`
	Title      string           `json:"title"`
	ActorID    string           `json:"actor_id"`
	ActorName  string           `json:"actor_name,omitempty"`
	Decision   Decision         `json:"decision"`
	Reason     ModerationReason `json:"reason_code,omitempty"`
	Note       string           `json:"note,omitempty"`
	Flags      int              `json:"flags_closed"` // the open flags the decision closed
	At         time.Time        `json:"at"`
}

// ModerationMail is what a refusal's mail to the author says, read when
// it is sent.
type ModerationMail struct {
	Name, Email string
	Kind        TargetKind
	ProposalID  string
	Title       string // the proposal's
	Excerpt     string // the comment's text (comments only)
	Reason      ModerationReason
	Note        string
}

// ModerationService stores flags, the queue and the decisions. The
// decisions themselves are the DiscussionService's and ProposalService's
// moderation steps, which record the history in the same transaction.
type ModerationService interface {
	// FlagContent stores f (its ID and Created filled); a second flag of
	// the same item by the same person is ECONFLICT, an item the person
	// may not flag ENOTFOUND or EFORBIDDEN (CheckFlag).
	FlagContent(ctx context.Context, f *Flag, u *User) error
	// ModerationQueue lists up to limit items, the most flagged first,
	// then the oldest.
	ModerationQueue(ctx context.Context, limit int) ([]*QueueItem, error)
	// KeepContent closes the open flags of a public item (DecisionKeep).
	KeepContent(ctx context.Context, kind TargetKind, id string, actor *User, now time.Time) error
	// ModerationHistory lists the latest decisions, newest first.
	ModerationHistory(ctx context.Context, limit int) ([]*ModerationDecision, error)
	// UserFlags lists the flags userID gave, newest first (their export).
	UserFlags(ctx context.Context, userID string) ([]*Flag, error)
	// ModerationMailFor reads a refusal's mail at send time (ENOTFOUND once
	// the author's account is gone).
	ModerationMailFor(ctx context.Context, decisionID string) (*ModerationMail, error)
}
