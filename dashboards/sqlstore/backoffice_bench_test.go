package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// BenchmarkBackOffice: the moderation queue (100 items listed among 1,000
// submitted proposals and 200 flagged ones) and the /idees text search
// sorted by supports over 1,000 public proposals, on SQLite (numbers in
// docs/benchmarks.md).
func BenchmarkBackOffice(b *testing.B) {
	ctx := context.Background()
	be := sqltest.SQLite(b)
	s := be.Store
	admin := &civic.User{Email: "bench-admin@example.fr", Name: "A", Role: civic.RoleAdmin, PasswordHash: "x"}
	flagger := &civic.User{Email: "bench-flag@example.fr", Name: "F", Role: civic.RoleCitizen, PasswordHash: "x"}
	author := &civic.User{Email: "bench-author@example.fr", Name: "W", Role: civic.RoleCitizen, PasswordHash: "x"}
	for _, u := range []*civic.User{admin, flagger, author} {
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	cp := &civic.Campaign{Name: "Bench", Starts: time.Now().Add(-time.Hour), Ends: time.Now().Add(time.Hour)}
	if err := s.CreateCampaign(ctx, cp); err != nil {
		b.Fatal(err)
	}
	for i := range 2000 {
		p := &civic.Proposal{CampaignID: cp.ID, ThemeID: "securite", AuthorID: author.ID, Title: fmt.Sprintf("Éclairage public n°%d", i), Body: "Des lampes à détection de présence."}
		if err := s.CreateProposal(ctx, p); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			continue
		}
		if _, err := s.SetStatus(ctx, p.ID, civic.StatusPublished, admin, "", time.Now()); err != nil {
			b.Fatal(err)
		}
		if i%5 == 0 {
			if err := s.FlagContent(ctx, &civic.Flag{Kind: civic.TargetProposal, TargetID: p.ID, Reason: civic.ReasonDuplicate}, flagger); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("queue", func(b *testing.B) {
		for b.Loop() {
			if q, err := s.ModerationQueue(ctx, 100); err != nil || len(q) != 100 {
				b.Fatal(len(q), err)
			}
		}
	})
	b.Run("search-by-supports", func(b *testing.B) {
		for b.Loop() {
			if ps, err := s.Proposals(ctx, civic.ProposalFilter{Statuses: civic.PublicStatuses(), Query: "n°1", Sort: civic.SortSupports, Limit: 51}); err != nil || len(ps) == 0 {
				b.Fatal(len(ps), err)
			}
		}
	})
}
