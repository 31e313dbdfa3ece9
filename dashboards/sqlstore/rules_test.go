package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestRulesAtCallersTime: the store decides with civic's rules at the time
// its caller gives (the API's clock), not its own: the status change is
// stamped with it, voting closes with the campaign's period as that clock
// reads it, and an erasure after the campaign keeps the support of a
// proposal still published (voting closed with the period) as an anonymous
// count, where one during the campaign withdraws it.
func TestRulesAtCallersTime(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 3)
			p := f.proposal(t, 10, "securite")
			at := f.campaign.Starts.Add(10 * time.Minute).UTC().Truncate(time.Millisecond)
			got, err := s.SetStatus(ctx, p.ID, civic.StatusPublished, f.admin, "", at)
			if err != nil || !got.Updated.Equal(at) {
				t.Fatalf("published: %+v, %v; want updated at %v", got, err, at)
			}
			if h, _ := s.History(ctx, p.ID); len(h) != 2 || !h[1].At.Equal(at) {
				t.Fatalf("history %+v, want the step at %v", h, at)
			}
			after := f.campaign.Ends.Add(time.Minute)
			if _, _, err := s.Vote(ctx, p.ID, f.citizens[0].ID, after); code(err) != civic.ECONFLICT {
				t.Fatalf("vote after the campaign: %v", err)
			}
			for _, u := range f.citizens[1:] {
				if _, _, err := s.Vote(ctx, p.ID, u.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := s.Unvote(ctx, p.ID, f.citizens[1].ID, after); code(err) != civic.ECONFLICT {
				t.Fatalf("withdrawal after the campaign: %v", err)
			}
			if err := s.DeleteUser(ctx, f.citizens[1].ID, after); err != nil {
				t.Fatal(err)
			}
			if p, _ := s.Proposal(ctx, p.ID); p.Votes != 2 {
				t.Fatalf("%d votes after an erasure once the campaign ended, want 2 (one anonymous)", p.Votes)
			}
			if err := s.DeleteUser(ctx, f.citizens[2].ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if p, _ := s.Proposal(ctx, p.ID); p.Votes != 1 {
				t.Fatalf("%d votes after an erasure during the campaign, want 1 (withdrawn)", p.Votes)
			}
		})
	}
}

// TestActivityCountsErasedSupports: "Mon compte" shows a supported
// proposal's count as the proposal does, the anonymous supports an erasure
// kept included (it used to count the vote rows only).
func TestActivityCountsErasedSupports(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 3)
			p := f.proposal(t, 10, "securite")
			f.move(t, p.ID, f.admin, civic.StatusPublished)
			me, gone := f.citizens[1], f.citizens[2]
			for _, u := range []*civic.User{me, gone} {
				if _, _, err := s.Vote(ctx, p.ID, u.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			f.move(t, p.ID, f.expert, civic.StatusShortlisted, civic.StatusUnderReview) // voting closes
			if err := s.DeleteUser(ctx, gone.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			shown, err := s.Proposal(ctx, p.ID)
			if err != nil || shown.Votes != 2 {
				t.Fatalf("proposal: %+v, %v; want 2 votes", shown, err)
			}
			a, err := s.Activity(ctx, me.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Supports) != 1 {
				t.Fatalf("%d supports, want 1", len(a.Supports))
			}
			if sp := a.Supports[0]; sp.Votes != shown.Votes || sp.VotingOpen {
				t.Fatalf("support %+v, want %d votes, voting closed", *sp, shown.Votes)
			}
		})
	}
}
