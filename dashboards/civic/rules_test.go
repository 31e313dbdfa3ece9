package civic_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// The campaign rules, without a database: each table is what the store used
// to decide in SQL or in its own code.

var (
	t0       = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	campaign = &civic.Campaign{ID: "smart-deal-2026", Kind: civic.CampaignIdeas, Starts: t0, Ends: t0.Add(30 * 24 * time.Hour), BudgetEUR: 1_000_000}
)

// TestStatusLists: the lists the SQL conditions are built from agree with
// the methods they list.
func TestStatusLists(t *testing.T) {
	for _, tc := range []struct {
		name string
		list []civic.Status
		want []civic.Status
	}{
		{"spending", civic.SpendingStatuses(), []civic.Status{civic.StatusSelected, civic.StatusInProgress, civic.StatusRealized}},
		{"erased with their author", civic.ErasedStatuses(), []civic.Status{civic.StatusSubmitted, civic.StatusRefused}},
		{"reviewable", civic.ReviewableStatuses(), []civic.Status{civic.StatusShortlisted, civic.StatusUnderReview}},
	} {
		if !slices.Equal(tc.list, tc.want) {
			t.Errorf("%s statuses %v, want %v", tc.name, tc.list, tc.want)
		}
	}
	for _, st := range civic.Statuses { // erasure keeps exactly what was public
		if slices.Contains(civic.ErasedStatuses(), st) == slices.Contains(civic.PublicStatuses(), st) {
			t.Errorf("%s is in both or neither of the public and erased lists", st)
		}
	}
	if got := civic.ErasedCommentStatuses(); !slices.Equal(got, []civic.CommentStatus{civic.CommentPending, civic.CommentHidden}) {
		t.Errorf("erased comment states %v", got)
	}
}

// TestCheckVote: voting is open in a voting status while the campaign runs,
// from its first instant to just before its end.
func TestCheckVote(t *testing.T) {
	for _, tc := range []struct {
		st   civic.Status
		at   time.Time
		want string // error code, "" for open
		msg  string
	}{
		{civic.StatusPublished, t0, "", ""},
		{civic.StatusShortlisted, campaign.Ends.Add(-time.Millisecond), "", ""},
		{civic.StatusPublished, t0.Add(-time.Millisecond), civic.ECONFLICT, "not open for voting"},
		{civic.StatusPublished, campaign.Ends, civic.ECONFLICT, "not open for voting"},
		{civic.StatusSubmitted, t0.Add(time.Hour), civic.ECONFLICT, "status submitted"},
		{civic.StatusUnderReview, t0.Add(time.Hour), civic.ECONFLICT, "status under_review"},
		{civic.StatusRefused, t0.Add(time.Hour), civic.ECONFLICT, "status refused"},
		{civic.StatusSelected, campaign.Ends, civic.ECONFLICT, "status selected"}, // the status speaks first
	} {
		err := civic.CheckVote(tc.st, campaign, tc.at)
		if civic.ErrorCode(err) != tc.want || (tc.msg != "" && !strings.Contains(civic.ErrorMessage(err), tc.msg)) {
			t.Errorf("%s at %v: %v, want %q (%q)", tc.st, tc.at, err, tc.want, tc.msg)
		}
		if open := civic.VotingOpenAt(tc.st, campaign, tc.at); open != (tc.want == "") {
			t.Errorf("%s at %v: VotingOpenAt %v", tc.st, tc.at, open)
		}
		if kept := civic.ErasureKeepsSupport(tc.st, campaign, tc.at); kept != (tc.want != "") {
			t.Errorf("%s at %v: erasure keeps the support: %v", tc.st, tc.at, kept)
		}
	}
}

// TestCheckSelection: the budget admits a selection that fills it exactly
// and refuses one euro more, saying by how much.
func TestCheckSelection(t *testing.T) {
	for _, tc := range []struct {
		committed, cost, over int64 // over 0: admitted
	}{
		{0, 1_000_000, 0},
		{800_000, 200_000, 0},
		{800_000, 200_001, 1},
		{800_000, 350_000, 150_000},
		{1_200_000, 0, 200_000}, // already overspent (a budget lowered since): nothing more
		{0, 0, 0},
	} {
		err := civic.CheckSelection(campaign, tc.committed, tc.cost)
		if tc.over == 0 {
			if err != nil {
				t.Errorf("committed %d + cost %d: %v", tc.committed, tc.cost, err)
			}
			continue
		}
		ce, ok := err.(*civic.Error)
		if !ok || ce.Code != civic.EOVERBUDGET || ce.Extra["over_by_eur"] != tc.over || ce.Extra["budget_eur"] != campaign.BudgetEUR ||
			ce.Extra["committed_eur"] != tc.committed || ce.Extra["cost_eur"] != tc.cost {
			t.Errorf("committed %d + cost %d: %#v, want over_by_eur %d", tc.committed, tc.cost, err, tc.over)
		}
	}
	ce := civic.CheckSelection(campaign, 800_000, 350_000).(*civic.Error)
	if want := "selecting this proposal (350000 €) would exceed the campaign budget of 1000000 € by 150000 € (800000 € already committed)"; ce.Message != want {
		t.Errorf("message %q", ce.Message)
	}
	if r := campaign.Remaining(1_200_000); r != -200_000 {
		t.Errorf("remaining %d", r)
	}
	for _, tc := range []struct {
		from, to civic.Status
		want     bool
	}{
		{civic.StatusUnderReview, civic.StatusSelected, true},
		{civic.StatusSelected, civic.StatusInProgress, false}, // already committed
		{civic.StatusInProgress, civic.StatusRealized, false},
		{civic.StatusUnderReview, civic.StatusRejected, false},
		{civic.StatusPublished, civic.StatusShortlisted, false},
	} {
		if got := civic.EntersBudget(tc.from, tc.to); got != tc.want {
			t.Errorf("%s -> %s enters the budget: %v", tc.from, tc.to, got)
		}
	}
}

// TestShortlist: top N per theme, a vote threshold, both, ties, and what is
// never a candidate.
func TestShortlist(t *testing.T) {
	p := func(id, theme string, votes int, created time.Duration) *civic.Proposal {
		return &civic.Proposal{ID: id, CampaignID: campaign.ID, ThemeID: theme, Status: civic.StatusPublished, Votes: votes, Created: t0.Add(created)}
	}
	candidates := []*civic.Proposal{
		p("a1", "securite", 5, 0),
		p("a2", "securite", 9, time.Hour),
		p("a3", "securite", 5, -time.Hour), // ties a1 on votes, older
		p("b1", "sante", 1, 0),
		p("b2", "sante", 7, 0),
		p("c1", "sport", 0, 0),
		p("c2", "sport", 0, 0), // ties c1 on votes and date: by id
	}
	shortlisted := p("x1", "securite", 50, 0)
	shortlisted.Status = civic.StatusShortlisted
	elsewhere := p("x2", "securite", 50, 0)
	elsewhere.CampaignID = "another"
	submitted := p("x3", "sante", 50, 0)
	submitted.Status = civic.StatusSubmitted
	candidates = append(candidates, shortlisted, elsewhere, submitted)

	for _, tc := range []struct {
		name          string
		topN, minVote int
		want          string
	}{
		{"top 1 per theme", 1, 0, "a2 b2 c1"},
		{"top 2 per theme", 2, 0, "a2 b2 a3 b1 c1 c2"},
		{"threshold 5", 0, 5, "a2 b2 a3 a1"},
		{"threshold 100", 0, 100, ""},
		{"top 1 or threshold 5: the threshold takes its theme's place", 1, 5, "a2 b2 a3 a1 c1"},
		{"no rule", 0, 0, ""},
	} {
		c := *campaign
		c.ShortlistTopN, c.ShortlistMinVotes = tc.topN, tc.minVote
		var got []string
		for _, p := range civic.Shortlist(&c, candidates) {
			got = append(got, p.ID)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
		if err := c.CheckShortlistRule(); (err == nil) == (tc.topN == 0 && tc.minVote == 0) {
			t.Errorf("%s: CheckShortlistRule %v", tc.name, err)
		}
	}
	if candidates[0].Status != civic.StatusPublished {
		t.Error("Shortlist modified a candidate")
	}
}

// TestCheckReason: a rejection needs a public reason, other steps may
// carry one, a refusal takes a Moderation instead.
func TestCheckReason(t *testing.T) {
	long := strings.Repeat("é", 1001) // 2002 bytes
	for _, tc := range []struct {
		to            civic.Status
		reason, field string // field "": accepted
		want          string
	}{
		{civic.StatusRejected, "  Hors du champ de l'appel. ", "", "Hors du champ de l'appel."},
		{civic.StatusRejected, " \t", "reason", ""},
		{civic.StatusRejected, long, "reason", ""},
		{civic.StatusSelected, "", "", ""},
		{civic.StatusSelected, " bon dossier ", "", "bon dossier"},
		{civic.StatusSelected, long, "reason", ""},
		{civic.StatusRefused, "abusif", "reason_code", ""},
	} {
		got, err := civic.CheckReason(tc.to, tc.reason)
		var field any
		if ce, ok := err.(*civic.Error); ok {
			field = ce.Extra["field"]
		}
		if tc.field == "" && (err != nil || got != tc.want) || tc.field != "" && field != tc.field {
			t.Errorf("%s %q: %q, %v; want %q, field %q", tc.to, tc.reason, got, err, tc.want, tc.field)
		}
	}
}

// TestApply: what a step changes on the proposal and writes in its history.
func TestApply(t *testing.T) {
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		name         string
		from, to     civic.Status
		was          string // rejection reason before
		reason       string
		m            *civic.Moderation
		wantRejected string
		wantCode     civic.ModerationReason
		wantReason   string // of the history entry
	}{
		{"rejection records its public reason", civic.StatusUnderReview, civic.StatusRejected, "", "trop cher", nil, "trop cher", "", "trop cher"},
		{"another step keeps the rejection reason", civic.StatusSelected, civic.StatusInProgress, "ancienne", "début", nil, "ancienne", "", "début"},
		{"refusal records the moderation, its note as the reason", civic.StatusPublished, civic.StatusRefused, "", "",
			&civic.Moderation{Reason: civic.ReasonDuplicate, Note: "Déjà proposée."}, "", civic.ReasonDuplicate, "Déjà proposée."},
	} {
		p := &civic.Proposal{ID: "p1", Status: tc.from, RejectionReason: tc.was, Updated: t0}
		ch := p.Apply(tc.to, "u1", tc.reason, tc.m, at)
		want := civic.StatusChange{ProposalID: "p1", From: tc.from, To: tc.to, By: "u1", Reason: tc.wantReason, At: at, ReasonCode: tc.wantCode}
		if ch != want {
			t.Errorf("%s: change %+v, want %+v", tc.name, ch, want)
		}
		if p.Status != tc.to || !p.Updated.Equal(at) || p.RejectionReason != tc.wantRejected {
			t.Errorf("%s: proposal %+v", tc.name, p)
		}
		if (p.Moderation != nil) != (tc.m != nil) || tc.m != nil && (*p.Moderation != *tc.m || p.Moderation == tc.m) {
			t.Errorf("%s: moderation %+v, want a copy of %+v", tc.name, p.Moderation, tc.m)
		}
	}
	// A later step keeps the moderation a refusal recorded (the store never
	// moves a refused proposal, but Apply does not drop what it does not own).
	p := &civic.Proposal{ID: "p1", Status: civic.StatusRefused, Moderation: &civic.Moderation{Reason: civic.ReasonAbusive}}
	p.Apply(civic.StatusPublished, "u1", "", nil, at)
	if p.Moderation == nil || p.Moderation.Reason != civic.ReasonAbusive {
		t.Errorf("moderation dropped: %+v", p.Moderation)
	}
}

// TestCheckSubmission: a running call for ideas takes proposals from
// anyone who may propose, a call for projects from administrators only.
func TestCheckSubmission(t *testing.T) {
	projects := *campaign
	projects.Kind = civic.CampaignProjects
	during, after := t0.Add(time.Hour), campaign.Ends
	for _, tc := range []struct {
		c    *civic.Campaign
		role civic.Role
		at   time.Time
		want string
	}{
		{campaign, civic.RoleCitizen, during, ""},
		{campaign, civic.RoleAdmin, during, ""},
		{campaign, civic.RoleCitizen, after, civic.ECONFLICT},
		{campaign, civic.RoleAdmin, t0.Add(-time.Second), civic.ECONFLICT},
		{&projects, civic.RoleCitizen, during, civic.EFORBIDDEN},
		{&projects, civic.RoleAdmin, during, ""},
		{&projects, civic.RoleCitizen, after, civic.ECONFLICT}, // closed speaks first
	} {
		if got := civic.ErrorCode(tc.c.CheckSubmission(tc.role, tc.at)); got != tc.want {
			t.Errorf("%s campaign, %s at %v: %q, want %q", tc.c.Kind, tc.role, tc.at, got, tc.want)
		}
	}
	if msg := civic.ErrorMessage(campaign.CheckSubmission(civic.RoleCitizen, after)); msg != "campaign smart-deal-2026 is not open for submissions (2026-03-01 to 2026-03-31)" {
		t.Errorf("message %q", msg)
	}
}

// TestStatusReason: the author reads the rejection's public reason, or
// else the note of the latest change.
func TestStatusReason(t *testing.T) {
	for _, tc := range []struct {
		p      civic.Proposal
		latest string
		want   string
	}{
		{civic.Proposal{Status: civic.StatusRejected, RejectionReason: "hors champ"}, "autre", "hors champ"},
		{civic.Proposal{Status: civic.StatusRejected}, "note", "note"},
		{civic.Proposal{Status: civic.StatusRefused, RejectionReason: "ancienne"}, "Déjà proposée.", "Déjà proposée."},
		{civic.Proposal{Status: civic.StatusPublished}, "", ""},
	} {
		if got := civic.StatusReason(&tc.p, tc.latest); got != tc.want {
			t.Errorf("%+v, %q: %q, want %q", tc.p, tc.latest, got, tc.want)
		}
	}
}
