package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestErasurePolicy: what DeleteUser keeps and what it removes, on SQLite and
// PostgreSQL. Supports on a proposal whose voting has closed stay counted;
// on one still open they are withdrawn. Public contributions stay without
// the author, unpublished ones go, reviews stay without the expert, and no
// history or audit entry names the erased accounts.
func TestErasurePolicy(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 3)
			u, other := f.citizens[1], f.citizens[2]

			closed := f.proposal(t, 10, "securite") // by citizens[0]
			open := f.proposal(t, 10, "securite")
			f.move(t, closed.ID, f.admin, civic.StatusPublished)
			f.move(t, open.ID, f.admin, civic.StatusPublished)
			for _, p := range []*civic.Proposal{closed, open} {
				for _, v := range []*civic.User{u, other} {
					if _, _, err := s.Vote(ctx, p.ID, v.ID, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
			f.move(t, closed.ID, f.expert, civic.StatusShortlisted, civic.StatusUnderReview) // voting closes
			if err := s.PutReview(ctx, &civic.Review{ProposalID: closed.ID, ExpertID: f.expert.ID, Impact: 4, Feasibility: 2, Cost: 5, Comment: "Utile."}); err != nil {
				t.Fatal(err)
			}

			mine := &civic.Proposal{CampaignID: f.campaign.ID, ThemeID: "securite", AuthorID: u.ID, Title: "Bancs publics", Body: "Des bancs."}
			draft := &civic.Proposal{CampaignID: f.campaign.ID, ThemeID: "securite", AuthorID: u.ID, Title: "Brouillon", Body: "Pas encore modéré."}
			refused := &civic.Proposal{CampaignID: f.campaign.ID, ThemeID: "securite", AuthorID: u.ID, Title: "Hors sujet", Body: "Refusée."}
			for _, p := range []*civic.Proposal{mine, draft, refused} {
				if err := s.CreateProposal(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			f.move(t, mine.ID, f.admin, civic.StatusPublished)
			if _, err := s.RefuseProposal(ctx, refused.ID, f.admin, civic.Moderation{Reason: civic.ReasonOffTopic}, time.Now()); err != nil {
				t.Fatal(err)
			}
			approved := &civic.Comment{ProposalID: open.ID, AuthorID: u.ID, Body: "Publié"}
			pending := &civic.Comment{ProposalID: open.ID, AuthorID: u.ID, Body: "En attente"}
			for _, c := range []*civic.Comment{approved, pending} {
				if err := s.AddComment(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.ModerateComment(ctx, approved.ID, civic.CommentApproved, f.admin.ID); err != nil {
				t.Fatal(err)
			}

			if err := s.DeleteUser(ctx, u.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteUser(ctx, f.expert.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteUser(ctx, u.ID, time.Now()); code(err) != civic.ENOTFOUND {
				t.Fatalf("second erasure: %v", err)
			}

			if p, _ := s.Proposal(ctx, closed.ID); p.Votes != 2 {
				t.Fatalf("closed proposal: %d votes after erasure, want 2 (kept, anonymous)", p.Votes)
			}
			if p, _ := s.Proposal(ctx, open.ID); p.Votes != 1 {
				t.Fatalf("open proposal: %d votes after erasure, want 1 (withdrawn)", p.Votes)
			}
			if _, n, err := s.Unvote(ctx, open.ID, other.ID, time.Now()); err != nil || n != 0 {
				t.Fatalf("unvote after erasure: %d, %v", n, err)
			}
			if p, err := s.Proposal(ctx, mine.ID); err != nil || p.AuthorID != "" || p.Title != "Bancs publics" {
				t.Fatalf("published proposal after erasure: %+v, %v", p, err)
			}
			if _, err := s.Proposal(ctx, draft.ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("unmoderated proposal after erasure: %v", err)
			}
			if _, err := s.Proposal(ctx, refused.ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("proposal refused at moderation after erasure: %v", err)
			}
			cs, err := s.Comments(ctx, open.ID, true)
			if err != nil || len(cs) != 1 || cs[0].ID != approved.ID || cs[0].AuthorID != "" {
				t.Fatalf("comments after erasure: %+v, %v", cs, err)
			}
			rs, err := s.Reviews(ctx, closed.ID)
			if err != nil || len(rs) != 1 || rs[0].ExpertID != "" || rs[0].Impact != 4 || rs[0].Comment != "Utile." {
				t.Fatalf("reviews after erasure: %+v, %v", rs, err)
			}
			h, err := s.History(ctx, closed.ID)
			if err != nil || len(h) != 4 || h[2].By != civic.ErasedUser || h[3].By != civic.ErasedUser || h[1].By != f.admin.ID {
				t.Fatalf("history after erasure: %+v, %v", h, err)
			}
			if h, _ := s.History(ctx, mine.ID); h[0].By != civic.ErasedUser {
				t.Fatalf("submission by %q after erasure", h[0].By)
			}
			log, err := s.AuditLog(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			deletes := 0
			for _, e := range log {
				for _, id := range []string{u.ID, f.expert.ID} {
					if e.Actor == id || e.Target == id || strings.Contains(e.Detail, id) {
						t.Errorf("audit entry names an erased account: %+v", e)
					}
				}
				if e.Action == "user.delete" {
					deletes++
				}
			}
			if deletes != 2 {
				t.Errorf("%d user.delete entries, want 2", deletes)
			}
			// A new review by another expert is stored beside the anonymous one.
			e2 := &civic.User{Email: "e2." + civic.NewID() + "@example.fr", Name: "E2", Role: civic.RoleExpert, PasswordHash: "x"}
			if err := s.CreateUser(ctx, e2); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second replaces the first
				if err := s.PutReview(ctx, &civic.Review{ProposalID: closed.ID, ExpertID: e2.ID, Impact: 1, Feasibility: 1, Cost: 1}); err != nil {
					t.Fatal(err)
				}
			}
			if rs, _ := s.Reviews(ctx, closed.ID); len(rs) != 2 {
				t.Fatalf("%d reviews, want the anonymous one and e2's", len(rs))
			}
		})
	}
}

// TestLastAdmin: the only administrator can neither be demoted (by itself or
// another) nor erased, and two concurrent demotions of the last two
// administrators, through two pools as two API replicas would, leave one.
func TestLastAdmin(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 0)
			for _, err := range []error{
				s.SetUserRole(ctx, f.admin.ID, f.admin.ID, civic.RoleCitizen),
				s.DeleteUser(ctx, f.admin.ID, time.Now()),
			} {
				var ce *civic.Error
				if !errors.As(err, &ce) || ce.Code != civic.ECONFLICT || ce.Extra["rule"] != "last_admin" ||
					!strings.Contains(ce.Message, "last administrator") || !strings.Contains(ce.Extra["detail_fr"].(string), "dernier compte administrateur") {
					t.Fatalf("last administrator: %#v", err)
				}
			}
			if u, err := s.UserByID(ctx, f.admin.ID); err != nil || u.Role != civic.RoleAdmin {
				t.Fatalf("refused change applied: %+v %v", u, err)
			}
			// Re-granting admin and demoting other accounts stay possible.
			if err := s.SetUserRole(ctx, f.admin.ID, f.admin.ID, civic.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			if err := s.SetUserRole(ctx, f.admin.ID, f.expert.ID, civic.RoleCitizen); err != nil {
				t.Fatal(err)
			}

			replica := sqltest.Replica(t, b).Store
			for round := range 20 {
				second := &civic.User{Email: "admin2." + civic.NewID() + "@example.fr", Name: "Admin 2", Role: civic.RoleAdmin, PasswordHash: "x"}
				if err := s.CreateUser(ctx, second); err != nil {
					t.Fatal(err)
				}
				ids := []string{f.admin.ID, second.ID}
				stores := []*sqlstore.Store{s, replica}
				errs := make([]error, 2)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if round%2 == 0 { // demotions, then erasures
							errs[i] = stores[i].SetUserRole(ctx, ids[i], ids[i], civic.RoleCitizen)
						} else {
							errs[i] = stores[i].DeleteUser(ctx, ids[i], time.Now())
						}
					}()
				}
				close(start)
				wg.Wait()
				ok, refused := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case code(err) == civic.ECONFLICT:
						refused++
					default:
						t.Fatalf("round %d: %v", round, err)
					}
				}
				var admins int
				if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin'`).Scan(&admins); err != nil {
					t.Fatal(err)
				}
				if ok != 1 || refused != 1 || admins != 1 {
					t.Fatalf("round %d: %d applied, %d refused, %d administrators left (%v)", round, ok, refused, admins, errs)
				}
				// The survivor is the administrator of the next round.
				for i, err := range errs {
					if err != nil {
						f.admin.ID = ids[i]
					}
				}
			}
		})
	}
}
