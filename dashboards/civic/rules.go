package civic

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The campaign rules: when voting is open, what a status change does to a
// proposal and what words it needs, the budget check on selection, the
// shortlist rule, what erasure keeps of a support and who submits to a
// campaign. They are pure: the store loads what a rule needs (within the
// transaction that stores the outcome, with the locks it takes) and stores
// what the rule decided; the time is the caller's (the API's Deps.Now).
// Where a rule must also be a SQL condition (a WHERE clause over many rows),
// the SQL is built from the lists below (SpendingStatuses, ErasedStatuses,
// ErasedCommentStatuses, and PublicStatuses for lists), never from a list of
// its own.

// SpendingStatuses lists the statuses for which Status.Spends is true: the
// proposals whose estimated costs a campaign has committed.
func SpendingStatuses() []Status { return statusesWhere(Status.Spends) }

// ReviewableStatuses lists the statuses for which Status.Reviewable is true.
func ReviewableStatuses() []Status { return statusesWhere(Status.Reviewable) }

// Reviewable reports whether experts score proposals in this status
// (PutReview accepts these only, the review desk lists them).
func (s Status) Reviewable() bool { return s == StatusShortlisted || s == StatusUnderReview }

func statusesWhere(keep func(Status) bool) []Status {
	var out []Status
	for _, s := range Statuses {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// CheckVote says whether a support may be given (or withdrawn) at now on a
// proposal in status st of campaign c: nil, or ECONFLICT saying why — the
// status closes voting (Status.VotingOpen), or the campaign does not run
// (Campaign.Open).
func CheckVote(st Status, c *Campaign, now time.Time) error {
	if !st.VotingOpen() {
		return Errorf(ECONFLICT, "voting is closed for a proposal in status %s", st)
	}
	if !c.Open(now) {
		return Errorf(ECONFLICT, "the campaign is not open for voting")
	}
	return nil
}

// VotingOpenAt reports whether CheckVote lets a support be given or
// withdrawn at now.
func VotingOpenAt(st Status, c *Campaign, now time.Time) bool { return CheckVote(st, c, now) == nil }

// ErasureKeepsSupport says what the erasure of an account does with its
// support of a proposal in status st of campaign c at now: once voting has
// closed, the support stays as an anonymous count (the decisions were taken
// on it); while voting is open it is withdrawn, as by the person themselves,
// so that someone who signs up again cannot count twice.
func ErasureKeepsSupport(st Status, c *Campaign, now time.Time) bool {
	return !VotingOpenAt(st, c, now)
}

// KeptByErasure reports whether the erasure of its author's account keeps a
// proposal in this status, without its author: one that was public stays
// (others discussed and supported it); one that never was (waiting for
// moderation, refused by it) is deleted.
func (s Status) KeptByErasure() bool { return s.Public() }

// ErasedStatuses lists the statuses for which KeptByErasure is false: the
// proposals an erasure deletes with their author.
func ErasedStatuses() []Status {
	return statusesWhere(func(s Status) bool { return !s.KeptByErasure() })
}

// KeptByErasure reports whether the erasure of its author's account keeps a
// comment in this state, without its author: an approved (public) one stays;
// one pending or hidden by moderation was never public and is deleted.
func (s CommentStatus) KeptByErasure() bool { return s == CommentApproved }

// ErasedCommentStatuses lists the comment states for which KeptByErasure
// is false.
func ErasedCommentStatuses() []CommentStatus {
	var out []CommentStatus
	for _, s := range CommentStatuses {
		if !s.KeptByErasure() {
			out = append(out, s)
		}
	}
	return out
}

// MaxStatusReason bounds the reason a status change carries, in bytes.
const MaxStatusReason = 2000

// CheckReason checks the words a workflow step to status to carries and
// returns them trimmed: a rejection needs a public reason, any other step
// may carry a note; both at most MaxStatusReason bytes. A moderation refusal
// takes a Moderation instead (Moderation.Validate), never a reason: asked
// here, it is refused with the field reason_code.
func CheckReason(to Status, reason string) (string, error) {
	if to == StatusRefused {
		return "", FieldError("reason_code", "required for a moderation refusal")
	}
	reason = strings.TrimSpace(reason)
	if to == StatusRejected && (reason == "" || len(reason) > MaxStatusReason) {
		return "", FieldError("reason", "a rejection needs a public reason (at most 2000 characters)")
	}
	if len(reason) > MaxStatusReason {
		return "", FieldError("reason", "at most 2000 characters")
	}
	return reason, nil
}

// Apply moves p to status to, by user id by at now, and returns the history
// entry of the step. A rejection records its reason as the public
// rejection reason; a refusal records m (its note is the entry's reason) as
// the proposal's moderation; any other step keeps both as they were. Apply
// does not check the step: callers check it first (CheckTransition,
// CheckReason or Moderation.Validate, and CheckSelection when EntersBudget).
func (p *Proposal) Apply(to Status, by, reason string, m *Moderation, now time.Time) StatusChange {
	ch := StatusChange{ProposalID: p.ID, From: p.Status, To: to, By: by, Reason: reason, At: now}
	if to == StatusRejected {
		p.RejectionReason = reason
	}
	if m != nil {
		mod := *m
		p.Moderation, ch.ReasonCode, ch.Reason = &mod, m.Reason, m.Note
	}
	p.Status, p.Updated = to, now
	return ch
}

// EntersBudget reports whether a step from → to commits the proposal's cost
// to its campaign's budget (a selection): the budget is checked then.
func EntersBudget(from, to Status) bool { return to.Spends() && !from.Spends() }

// Remaining is what is left of c's budget once committed euros are
// committed (negative when overspent).
func (c *Campaign) Remaining(committed int64) int64 { return c.BudgetEUR - committed }

// CheckSelection refuses, with EOVERBUDGET and the figures in Extra
// (budget_eur, committed_eur, cost_eur, over_by_eur), a selection whose cost
// would take c's committed euros over its budget; nil when it fits,
// exactly filling it included. The store sums committed (the costs of the
// campaign's proposals in SpendingStatuses) in the transaction that stores
// the selection, with the campaign row locked, so that two concurrent
// selections cannot together exceed the budget.
func CheckSelection(c *Campaign, committed, cost int64) error {
	over := committed + cost - c.BudgetEUR
	if over <= 0 {
		return nil
	}
	return &Error{
		Code: EOVERBUDGET,
		Message: fmt.Sprintf("selecting this proposal (%d €) would exceed the campaign budget of %d € by %d € (%d € already committed)",
			cost, c.BudgetEUR, over, committed),
		Extra: map[string]any{"budget_eur": c.BudgetEUR, "committed_eur": committed, "cost_eur": cost, "over_by_eur": over},
	}
}

// CheckShortlistRule refuses (ECONFLICT) to shortlist a campaign that has
// no shortlist rule.
func (c *Campaign) CheckShortlistRule() error {
	if c.ShortlistTopN == 0 && c.ShortlistMinVotes == 0 {
		return Errorf(ECONFLICT, "campaign %s has no shortlist rule (shortlist_top_n or shortlist_min_votes)", c.ID)
	}
	return nil
}

// Shortlist applies c's rule to the candidates and returns those it picks,
// most supported first (then the earliest submitted, then by id): of the
// published proposals of campaign c, each one with at least
// ShortlistMinVotes votes (when that rule is set), and the ShortlistTopN
// most supported of each theme (when that one is). A proposal picked by the
// threshold takes one of its theme's top-N places. Candidates of another
// campaign or in another status are never picked; the candidates are not
// modified.
func Shortlist(c *Campaign, candidates []*Proposal) []*Proposal {
	ps := make([]*Proposal, 0, len(candidates))
	for _, p := range candidates {
		if p.CampaignID == c.ID && p.Status == StatusPublished {
			ps = append(ps, p)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		switch {
		case ps[i].Votes != ps[j].Votes:
			return ps[i].Votes > ps[j].Votes
		case !ps[i].Created.Equal(ps[j].Created):
			return ps[i].Created.Before(ps[j].Created)
		}
		return ps[i].ID < ps[j].ID
	})
	picked := []*Proposal{}
	perTheme := map[string]int{}
	for _, p := range ps {
		take := c.ShortlistMinVotes > 0 && p.Votes >= c.ShortlistMinVotes
		if c.ShortlistTopN > 0 && perTheme[p.ThemeID] < c.ShortlistTopN {
			take = true
		}
		if take {
			perTheme[p.ThemeID]++
			picked = append(picked, p)
		}
	}
	return picked
}

// CheckSubmission says whether a user of role may submit a proposal to c at
// now: while the campaign runs (ECONFLICT otherwise); a call for citizen
// ideas takes them from anyone who may propose, a call for organisations'
// digital projects from the administrators, who enter them (EFORBIDDEN).
func (c *Campaign) CheckSubmission(role Role, now time.Time) error {
	if !c.Open(now) {
		return Errorf(ECONFLICT, "campaign %s is not open for submissions (%s to %s)",
			c.ID, c.Starts.Format(time.DateOnly), c.Ends.Format(time.DateOnly))
	}
	if c.Kind == CampaignProjects && role != RoleAdmin {
		return Errorf(EFORBIDDEN, "campaign %s is a call for organisations' projects: an administrator enters them", c.ID)
	}
	return nil
}

// StatusReason is the reason shown with a proposal's current status to its
// author: the public rejection reason of a rejected proposal, otherwise
// latest, the reason recorded with its latest status change (a moderator's
// or the committee's note), if any.
func StatusReason(p *Proposal, latest string) string {
	if p.Status == StatusRejected && p.RejectionReason != "" {
		return p.RejectionReason
	}
	return latest
}
