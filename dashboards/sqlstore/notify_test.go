package sqlstore_test

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestNotifications: consent is off by default and records when it was
// given; a status change queues exactly one mail per person who wants one
// (author and supporters who opted in, never the actor, an author who also
// supports once); two replicas claiming at once never take the same mail;
// a withdrawn consent or support drops a queued mail; a failed delivery is
// due again only after its retry time; erasing an account removes its
// preferences and mails; the unsubscribe key is shared by the replicas.
func TestNotifications(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 5)
			author, fan, quiet, ownOnly, gone := f.citizens[0], f.citizens[1], f.citizens[2], f.citizens[3], f.citizens[4]

			// Off by default; on records the time; staying on keeps it.
			p0, err := s.NotificationPrefs(ctx, author.ID)
			if err != nil || p0.OwnProposals || p0.SupportedProposals || p0.OwnSince != nil || p0.Updated != nil {
				t.Fatalf("default prefs %+v %v", p0, err)
			}
			t1 := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
			set := func(u *civic.User, own, sup bool, at time.Time) *civic.NotificationPrefs {
				t.Helper()
				p, err := s.SetNotificationPrefs(ctx, u.ID, own, sup, "test", at)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			if p := set(author, true, false, t1); !p.OwnProposals || p.SupportedProposals || !p.OwnSince.Equal(t1) {
				t.Fatalf("on: %+v", p)
			}
			if p := set(author, true, true, t1.Add(time.Minute)); !p.OwnSince.Equal(t1) || !p.SupportedSince.Equal(t1.Add(time.Minute)) {
				t.Fatalf("kept consent time: %+v", p)
			}
			if p, _ := s.NotificationPrefs(ctx, author.ID); !p.OwnSince.Equal(t1) || !p.SupportedSince.Equal(t1.Add(time.Minute)) || !p.Updated.Equal(t1.Add(time.Minute)) {
				t.Fatalf("read back: %+v", p)
			}
			if p := set(fan, false, true, t1); p.OwnProposals || !p.SupportedProposals {
				t.Fatalf("fan %+v", p)
			}
			set(ownOnly, true, false, t1)
			set(gone, false, true, t1)
			set(quiet, true, true, t1)
			if p := set(quiet, false, false, t1.Add(time.Minute)); p.OwnSince != nil || p.SupportedSince != nil {
				t.Fatalf("withdrawn consent keeps a time: %+v", p)
			}
			if _, err := s.SetNotificationPrefs(ctx, "nobody", true, true, "test", t1); code(err) != civic.ENOTFOUND {
				t.Fatalf("unknown account: %v", err)
			}
			log, _ := s.AuditLog(ctx, 1000)
			var consents []string
			for _, e := range log {
				if e.Action == "notify.prefs" && e.Actor == author.ID {
					consents = append(consents, e.Detail)
				}
			}
			sort.Strings(consents)
			if strings.Join(consents, "|") != "own=on supported=off source=test|own=on supported=on source=test" {
				t.Fatalf("consent audit %q", consents)
			}

			p := f.proposal(t, 1000, "securite")
			f.move(t, p.ID, f.admin, civic.StatusPublished)
			for _, u := range []*civic.User{author, fan, quiet, ownOnly, gone} {
				if _, _, err := s.Vote(ctx, p.ID, u.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			n, err := s.EnqueueStatusMails(ctx, p.ID, civic.StatusShortlisted, "", f.admin.ID, time.Now())
			if err != nil || n != 3 {
				t.Fatalf("queued %d %v, want 3 (author, fan, gone)", n, err)
			}
			if n, err := s.EnqueueStatusMails(ctx, p.ID, civic.StatusShortlisted, "", f.admin.ID, time.Now()); err != nil || n != 0 {
				t.Fatalf("queued again %d %v", n, err)
			}
			// The actor is never told about their own change.
			if n, err := s.EnqueueStatusMails(ctx, p.ID, civic.StatusUnderReview, "", author.ID, time.Now()); err != nil || n != 2 {
				t.Fatalf("actor excluded: %d %v", n, err)
			}
			if err := s.DeleteUser(ctx, gone.ID); err != nil {
				t.Fatal(err)
			}
			if n := pending(t, s); n != 3 { // shortlisted: author, fan; under review: fan
				t.Fatalf("after erasure %d mails queued, want 3", n)
			}
			if gp, _ := s.NotificationPrefs(ctx, gone.ID); gp.SupportedProposals {
				t.Fatalf("erased account keeps prefs %+v", gp)
			}

			// Two replicas claim concurrently: each mail goes to one of them.
			other := sqltest.Replica(t, b).Store
			var mu sync.Mutex
			var claimed []*civic.StatusMail
			var wg sync.WaitGroup
			for _, st := range []*sqlstore.Store{s, other, s, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ms, err := st.ClaimStatusMails(ctx, time.Now(), time.Minute, 10)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					claimed = append(claimed, ms...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			var got []string
			for _, m := range claimed {
				got = append(got, string(m.To)+"/"+m.Name)
				switch m.UserID {
				case author.ID:
					if !m.Author || m.Email != author.Email || m.Title != p.Title || !m.Since.Equal(t1) {
						t.Errorf("author's mail %+v", m)
					}
				case fan.ID:
					if m.Author || !m.Since.Equal(t1) {
						t.Errorf("supporter's mail %+v", m)
					}
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != "shortlisted/citizen0 shortlisted/citizen1 under_review/citizen1" {
				t.Fatalf("claimed %v", got)
			}
			if ms, _ := s.ClaimStatusMails(ctx, time.Now(), time.Minute, 10); len(ms) != 0 {
				t.Fatalf("leased mails claimed again: %d", len(ms))
			}

			// A failed delivery is due again at its retry time, not before.
			var failed *civic.StatusMail
			for _, m := range claimed {
				if m.UserID == author.ID {
					failed = m
				} else if err := s.StatusMailSent(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			retry := time.Now().Add(time.Hour)
			if err := s.StatusMailFailed(ctx, failed, retry, false); err != nil {
				t.Fatal(err)
			}
			if ms, _ := s.ClaimStatusMails(ctx, retry.Add(-time.Second), time.Minute, 10); len(ms) != 0 {
				t.Fatalf("claimed before its retry: %d", len(ms))
			}
			ms, err := s.ClaimStatusMails(ctx, retry, time.Minute, 10)
			if err != nil || len(ms) != 1 || ms[0].Attempts != 1 {
				t.Fatalf("retry claim %+v %v", ms, err)
			}
			if err := s.StatusMailFailed(ctx, ms[0], retry, true); err != nil || pending(t, s) != 0 {
				t.Fatalf("given up: %v, %d left", err, pending(t, s))
			}

			// Consent or support withdrawn after queuing: nothing is sent.
			if n, _ := s.EnqueueStatusMails(ctx, p.ID, civic.StatusSelected, "", f.admin.ID, time.Now()); n != 2 {
				t.Fatalf("selected queued %d", n)
			}
			set(author, false, false, time.Now())
			if removed, _, err := s.Unvote(ctx, p.ID, fan.ID, time.Now()); err != nil || !removed {
				t.Fatalf("unvote: %v %v", removed, err)
			}
			if ms, err := s.ClaimStatusMails(ctx, time.Now(), time.Minute, 10); err != nil || len(ms) != 0 {
				t.Fatalf("claimed unwanted mails: %+v %v", ms, err)
			}
			if n := pending(t, s); n != 0 {
				t.Fatalf("unwanted mails kept: %d", n)
			}

			// Unwanted mails ahead of a wanted one do not hide it.
			set(quiet, false, true, time.Now())
			if n, _ := s.EnqueueStatusMails(ctx, p.ID, civic.StatusInProgress, "", f.admin.ID, time.Now().Add(-time.Minute)); n != 1 {
				t.Fatalf("in progress queued %d, want 1", n) // first in the queue
			}
			if _, _, err := s.Vote(ctx, p.ID, fan.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.EnqueueStatusMails(ctx, p.ID, civic.StatusRealized, "", f.admin.ID, time.Now()); n != 2 {
				t.Fatalf("realized queued %d, want 2", n)
			}
			set(quiet, false, false, time.Now())
			if ms, err := s.ClaimStatusMails(ctx, time.Now(), time.Minute, 1); err != nil || len(ms) != 1 || ms[0].UserID != fan.ID {
				t.Fatalf("claim behind a dropped mail: %+v %v", ms, err)
			}
			if ms, _ := s.ClaimStatusMails(ctx, time.Now(), time.Minute, 10); len(ms) != 0 || pending(t, s) != 1 {
				t.Fatalf("claimed %d more; %d mails queued, want the leased one", len(ms), pending(t, s))
			}

			// One key for every replica, stable.
			k1, err1 := s.UnsubscribeSecret(ctx)
			k2, err2 := other.UnsubscribeSecret(ctx)
			k3, _ := s.UnsubscribeSecret(ctx)
			if err1 != nil || err2 != nil || len(k1) != 32 || !bytes.Equal(k1, k2) || !bytes.Equal(k1, k3) {
				t.Fatalf("unsubscribe secret %x %x %v %v", k1, k2, err1, err2)
			}
		})
	}
}

func pending(t *testing.T, s *sqlstore.Store) int {
	t.Helper()
	n, err := s.PendingStatusMails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestActivity: an account's activity lists its own proposals (submitted
// ones too, with the reason of the latest decision), supports (voting open
// or not) and comments (every moderation state, with the proposal), and
// nobody else's.
func TestActivity(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 2)
			me, other := f.citizens[0], f.citizens[1]
			mk := func(author *civic.User, title string) *civic.Proposal {
				p := &civic.Proposal{CampaignID: f.campaign.ID, ThemeID: "securite", AuthorID: author.ID, Title: title, Body: "texte"}
				if err := s.CreateProposal(ctx, p); err != nil {
					t.Fatal(err)
				}
				return p
			}
			mk(me, "En attente")
			published := mk(me, "Publiée")
			refused := mk(me, "Refusée")
			theirs := mk(other, "La leur")
			f.move(t, published.ID, f.admin, civic.StatusPublished)
			f.move(t, theirs.ID, f.admin, civic.StatusPublished)
			if _, err := s.SetStatus(ctx, refused.ID, civic.StatusRejected, f.admin, "Hors du champ de l'appel."); err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct {
				p *civic.Proposal
				u *civic.User
			}{{theirs, me}, {published, other}, {theirs, other}} {
				if _, _, err := s.Vote(ctx, v.p.ID, v.u.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			comment := func(u *civic.User, p *civic.Proposal, body string) *civic.Comment {
				c := &civic.Comment{ProposalID: p.ID, AuthorID: u.ID, Body: body}
				if err := s.AddComment(ctx, c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			pendingC := comment(me, theirs, "mon commentaire en attente")
			approved := comment(me, published, "mon commentaire publié")
			comment(other, theirs, "le sien")
			if _, err := s.ModerateComment(ctx, approved.ID, civic.CommentApproved, f.admin.ID); err != nil {
				t.Fatal(err)
			}

			a, err := s.Activity(ctx, me.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, p := range a.Proposals {
				titles = append(titles, p.Title+"="+string(p.Status)+":"+p.StatusReason)
			}
			sort.Strings(titles)
			if strings.Join(titles, "|") != "En attente=submitted:|Publiée=published:raison|Refusée=rejected:Hors du champ de l'appel." {
				t.Fatalf("proposals %q", titles)
			}
			if len(a.Supports) != 1 || a.Supports[0].ProposalID != theirs.ID || !a.Supports[0].VotingOpen || a.Supports[0].Votes != 2 || a.Supports[0].Title != "La leur" {
				t.Fatalf("supports %+v", a.Supports)
			}
			byID := map[string]*civic.ActivityComment{}
			for _, c := range a.Comments {
				byID[c.ID] = c
			}
			if c := byID[approved.ID]; len(a.Comments) != 2 || c == nil || c.Status != civic.CommentApproved || c.ProposalTitle != "Publiée" ||
				byID[pendingC.ID] == nil || byID[pendingC.ID].Status != civic.CommentPending || byID[pendingC.ID].ProposalTitle != "La leur" {
				t.Fatalf("comments %+v", a.Comments)
			}
			// Voting closes with the campaign: the support stays, not withdrawable.
			if a, _ := s.Activity(ctx, me.ID, f.campaign.Ends.Add(time.Minute)); a.Supports[0].VotingOpen {
				t.Fatal("voting open after the campaign")
			}
			if a, _ := s.Activity(ctx, "nobody", time.Now()); len(a.Proposals)+len(a.Supports)+len(a.Comments) != 0 {
				t.Fatalf("unknown account has activity %+v", a)
			}
		})
	}
}
