package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
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
// given; a status change queues in the mail outbox exactly one mail per
// person who wants one (author and supporters who opted in with a verified
// address, never the actor, an author who also supports once), once however
// often it is queued; two replicas claiming at once never take the same
// mail; at send time a withdrawn consent or support, an unverified address,
// a proposal hidden from its supporters or an erased account mean no mail;
// erasing an account removes its preferences and mails; the unsubscribe key
// is shared by the replicas.
func TestNotifications(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 6)
			author, fan, quiet, ownOnly, gone, unverified := f.citizens[0], f.citizens[1], f.citizens[2], f.citizens[3], f.citizens[4], f.citizens[5]
			for _, u := range f.citizens[:5] {
				if err := s.MarkEmailVerified(ctx, u.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}

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
			set(unverified, true, true, t1)
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
			for _, u := range f.citizens {
				if _, _, err := s.Vote(ctx, p.ID, u.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			n, err := s.EnqueueStatusMails(ctx, p.ID, civic.StatusShortlisted, "Parmi les plus soutenues.", f.admin.ID, time.Now())
			if err != nil || n != 3 {
				t.Fatalf("queued %d %v, want 3 (author, fan, gone; not the unverified address)", n, err)
			}
			if n, err := s.EnqueueStatusMails(ctx, p.ID, civic.StatusShortlisted, "", f.admin.ID, time.Now()); err != nil || n != 0 {
				t.Fatalf("queued again %d %v", n, err)
			}
			// The actor is never told about their own change.
			if n, err := s.EnqueueStatusMails(ctx, p.ID, civic.StatusUnderReview, "", author.ID, time.Now()); err != nil || n != 2 {
				t.Fatalf("actor excluded: %d %v", n, err)
			}
			rows := func(q string, args ...any) int {
				t.Helper()
				var n int
				if err := s.DB().QueryRowContext(ctx, rebind(b.Name, q), args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := rows(`SELECT COUNT(*) FROM mail_outbox WHERE user_id = ?`, gone.ID); n != 2 {
				t.Fatalf("%d mails queued for the account about to be erased, want 2", n)
			}
			if err := s.DeleteUser(ctx, gone.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if n := pending(t, s); n != 3 { // shortlisted: author, fan; under review: fan
				t.Fatalf("after erasure %d mails queued, want 3", n)
			}
			if n := rows(`SELECT COUNT(*) FROM mail_outbox WHERE user_id = ?`, gone.ID) + rows(`SELECT COUNT(*) FROM notification_prefs WHERE user_id = ?`, gone.ID); n != 0 {
				t.Fatalf("erased account keeps %d mail or preference rows", n)
			}
			if _, err := s.StatusMailFor(ctx, gone.ID, p.ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("status mail for an erased account: %v", err)
			}

			// Two replicas claim concurrently: each mail goes to one of them.
			other := sqltest.Replica(t, b).Store
			var mu sync.Mutex
			var claimed []*civic.OutboxMail
			var wg sync.WaitGroup
			for _, st := range []*sqlstore.Store{s, other, s, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ms, err := st.ClaimMail(ctx, time.Now(), time.Minute, 10)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					claimed = append(claimed, ms...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			names := map[string]string{author.ID: "author", fan.ID: "fan"}
			var got []string
			for _, m := range claimed {
				got = append(got, string(m.Status)+"/"+names[m.UserID])
				if m.Kind != civic.MailStatus || m.ProposalID != p.ID || m.Attempts != 1 {
					t.Errorf("claimed %+v", m)
				}
				if m.Status == civic.StatusShortlisted && m.Detail != "Parmi les plus soutenues." {
					t.Errorf("reason %q", m.Detail)
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != "shortlisted/author shortlisted/fan under_review/fan" {
				t.Fatalf("claimed %v", got)
			}
			if ms, _ := s.ClaimMail(ctx, time.Now(), time.Minute, 10); len(ms) != 0 {
				t.Fatalf("leased mails claimed again: %d", len(ms))
			}
			for _, m := range claimed {
				if err := s.FinishMail(ctx, m.ID, nil, time.Time{}, false); err != nil {
					t.Fatal(err)
				}
			}
			if n := pending(t, s); n != 0 {
				t.Fatalf("%d mails left", n)
			}

			// What the mail says is read when it is sent.
			if m, err := s.StatusMailFor(ctx, author.ID, p.ID); err != nil || !m.Author || m.Email != author.Email || m.Name != author.Name ||
				m.Title != p.Title || !m.Since.Equal(t1) {
				t.Fatalf("author's mail %+v %v", m, err)
			}
			if m, err := s.StatusMailFor(ctx, fan.ID, p.ID); err != nil || m.Author || m.Email != fan.Email || !m.Since.Equal(t1) {
				t.Fatalf("supporter's mail %+v %v", m, err)
			}
			for name, id := range map[string]string{"not opted in": quiet.ID, "own proposals only, not the author": ownOnly.ID,
				"unverified address": unverified.ID, "unknown account": "nobody"} {
				if _, err := s.StatusMailFor(ctx, id, p.ID); code(err) != civic.ENOTFOUND {
					t.Errorf("%s: %v", name, err)
				}
			}
			if _, err := s.StatusMailFor(ctx, fan.ID, "no-such-proposal"); code(err) != civic.ENOTFOUND {
				t.Errorf("unknown proposal: %v", err)
			}
			// Consent or support withdrawn after queuing: nothing to send.
			set(author, false, true, time.Now())
			if m, err := s.StatusMailFor(ctx, author.ID, p.ID); err != nil || m.Author {
				t.Fatalf("author who only follows supported proposals now: %+v %v", m, err)
			}
			set(author, false, false, time.Now())
			if _, err := s.StatusMailFor(ctx, author.ID, p.ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("consent withdrawn: %v", err)
			}
			if removed, _, err := s.Unvote(ctx, p.ID, fan.ID, time.Now()); err != nil || !removed {
				t.Fatalf("unvote: %v %v", removed, err)
			}
			if _, err := s.StatusMailFor(ctx, fan.ID, p.ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("support withdrawn: %v", err)
			}
			// A proposal hidden by moderation is no news for its supporters,
			// still for its author.
			hidden := f.proposal(t, 10, "securite")
			f.move(t, hidden.ID, f.admin, civic.StatusPublished)
			if _, _, err := s.Vote(ctx, hidden.ID, fan.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			set(author, true, false, time.Now())
			if _, err := s.RefuseProposal(ctx, hidden.ID, f.admin, civic.Moderation{Reason: civic.ReasonOffTopic}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.StatusMailFor(ctx, fan.ID, hidden.ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("supporter of a hidden proposal: %v", err)
			}
			if m, err := s.StatusMailFor(ctx, author.ID, hidden.ID); err != nil || !m.Author {
				t.Fatalf("author of a hidden proposal: %+v %v", m, err)
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

// rebind writes a query's ? placeholders as $1, $2… on PostgreSQL.
func rebind(backend, q string) string {
	if backend != "postgres" {
		return q
	}
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
	}
	return q
}

func pending(t *testing.T, s *sqlstore.Store) int {
	t.Helper()
	n, err := s.PendingMail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestActivity: an account's activity lists its own proposals (submitted
// and refused ones too, with the reason of the latest decision), supports
// (voting open or not) and comments (every moderation state, with the
// proposal), and nobody else's.
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
			moderated := mk(me, "Modérée")
			theirs := mk(other, "La leur")
			f.move(t, published.ID, f.admin, civic.StatusPublished)
			f.move(t, theirs.ID, f.admin, civic.StatusPublished)
			f.move(t, refused.ID, f.admin, civic.StatusPublished)
			if _, err := s.SetStatus(ctx, refused.ID, civic.StatusRejected, f.admin, "Hors du champ de l'appel.", time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RefuseProposal(ctx, moderated.ID, f.admin, civic.Moderation{Reason: civic.ReasonDuplicate, Note: "Déjà proposée."}, time.Now()); err != nil {
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
			if strings.Join(titles, "|") != "En attente=submitted:|Modérée=refused:Déjà proposée.|Publiée=published:raison|Refusée=rejected:Hors du champ de l'appel." {
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
