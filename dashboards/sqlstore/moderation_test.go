package sqlstore_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestModeration: the moderation refusal of a proposal and the hiding of a
// comment, with their reason codes, on SQLite and PostgreSQL; and migration
// 00003, which turns the proposals "rejected" straight from submitted (the
// old moderation, which published them) into refused ones, and back down.
func TestModeration(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("proposal", func(t *testing.T) { testRefuse(t, b.Store) })
			t.Run("comment", func(t *testing.T) { testHideComment(t, b.Store) })
		})
	}
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name+"/migration", func(t *testing.T) { testModerationMigration(t, b) })
	}
}

func testRefuse(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	f := newFixture(t, s, 2)
	p := f.proposal(t, 10, "securite")
	note := "Ce sujet relève de la commune."
	for _, tc := range []struct {
		name  string
		m     civic.Moderation
		field string
	}{
		{"no reason code", civic.Moderation{Note: note}, "reason_code"},
		{"unknown reason code", civic.Moderation{Reason: "spam"}, "reason_code"},
		{"note too long", civic.Moderation{Reason: civic.ReasonOther, Note: strings.Repeat("é", civic.MaxModerationNote+1)}, "note"},
		{"control character", civic.Moderation{Reason: civic.ReasonOther, Note: "a\x00b"}, "note"},
	} {
		_, err := s.RefuseProposal(ctx, p.ID, f.admin, tc.m, time.Now())
		var ce *civic.Error
		if !errors.As(err, &ce) || ce.Code != civic.EINVALID || ce.Extra["field"] != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	if _, err := s.SetStatus(ctx, p.ID, civic.StatusRefused, f.admin, note, time.Now()); code(err) != civic.EINVALID {
		t.Fatalf("refusal without a reason code through SetStatus: %v", err)
	}
	// The step that used to publish a moderated proposal is gone.
	if _, err := s.SetStatus(ctx, p.ID, civic.StatusRejected, f.admin, "hors sujet", time.Now()); code(err) != civic.ECONFLICT {
		t.Fatalf("submitted -> rejected: %v, want conflict", err)
	}
	if _, err := s.RefuseProposal(ctx, p.ID, f.expert, civic.Moderation{Reason: civic.ReasonOffTopic}, time.Now()); code(err) != civic.EFORBIDDEN {
		t.Fatalf("expert refusing: %v", err)
	}
	if got, _ := s.Proposal(ctx, p.ID); got.Status != civic.StatusSubmitted || got.Moderation != nil {
		t.Fatalf("refused attempts changed the proposal: %+v", got)
	}

	got, err := s.RefuseProposal(ctx, p.ID, f.admin, civic.Moderation{Reason: civic.ReasonOffTopic, Note: "  " + note + " "}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != civic.StatusRefused || got.Status.Public() || got.Moderation == nil ||
		*got.Moderation != (civic.Moderation{Reason: civic.ReasonOffTopic, Note: note}) || got.RejectionReason != "" {
		t.Fatalf("refused proposal %+v (moderation %+v)", got, got.Moderation)
	}
	if _, err := s.RefuseProposal(ctx, p.ID, f.admin, civic.Moderation{Reason: civic.ReasonAbusive}, time.Now()); code(err) != civic.ECONFLICT {
		t.Fatalf("refusing twice: %v", err)
	}
	h, err := s.History(ctx, p.ID)
	if err != nil || len(h) != 2 {
		t.Fatalf("history %+v %v", h, err)
	}
	if last := h[1]; last.From != civic.StatusSubmitted || last.To != civic.StatusRefused || last.ReasonCode != civic.ReasonOffTopic ||
		last.Reason != note || last.By != f.admin.ID {
		t.Fatalf("history entry %+v", last)
	}
	if _, _, err := s.Vote(ctx, p.ID, f.citizens[1].ID, time.Now()); code(err) != civic.ECONFLICT {
		t.Fatalf("vote on a refused proposal: %v", err)
	}
	if err := s.AddComment(ctx, &civic.Comment{ProposalID: p.ID, AuthorID: f.citizens[1].ID, Body: "Bonjour"}); code(err) != civic.ECONFLICT {
		t.Fatalf("comment on a refused proposal: %v", err)
	}

	// Published, then found abusive: refused too, its votes kept but not
	// counted anywhere public.
	q := f.proposal(t, 10, "securite")
	f.move(t, q.ID, f.admin, civic.StatusPublished)
	if _, _, err := s.Vote(ctx, q.ID, f.citizens[1].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RefuseProposal(ctx, q.ID, f.admin, civic.Moderation{Reason: civic.ReasonAbusive}, time.Now()); err != nil ||
		got.Status != civic.StatusRefused || got.Moderation.Reason != civic.ReasonAbusive || got.Moderation.Note != "" {
		t.Fatalf("refusing a published proposal: %+v %v", got, err)
	}
	public, err := s.Proposals(ctx, civic.ProposalFilter{CampaignID: f.campaign.ID, Statuses: civic.PublicStatuses()})
	if err != nil || len(public) != 0 {
		t.Fatalf("public proposals %+v %v, want none", public, err)
	}
	refused, err := s.Proposals(ctx, civic.ProposalFilter{CampaignID: f.campaign.ID, Statuses: []civic.Status{civic.StatusRefused}})
	if err != nil || len(refused) != 2 {
		t.Fatalf("refused proposals %d %v, want 2", len(refused), err)
	}

	audit, err := s.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{p.ID: "submitted->refused reason_code=off_topic note=" + note, q.ID: "published->refused reason_code=abusive"}
	for _, a := range audit {
		if a.Action == "proposal.status" && a.Detail == want[a.Target] && a.Actor == f.admin.ID {
			delete(want, a.Target)
		}
	}
	if len(want) != 0 {
		t.Fatalf("audit log lacks %v", want)
	}

	// The author's export carries the reason.
	ex, err := s.ExportUser(ctx, f.citizens[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range ex.Proposals {
		if ep.ID == p.ID && (ep.Moderation == nil || ep.Moderation.Reason != civic.ReasonOffTopic) {
			t.Fatalf("export: %+v", ep)
		}
	}
}

func testHideComment(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	f := newFixture(t, s, 2)
	p := f.proposal(t, 10, "securite")
	f.move(t, p.ID, f.admin, civic.StatusPublished)
	c := &civic.Comment{ProposalID: p.ID, AuthorID: f.citizens[0].ID, Body: "Rien à voir"}
	if err := s.AddComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ModerateComment(ctx, c.ID, civic.CommentHidden, f.admin.ID); code(err) != civic.EINVALID {
		t.Fatalf("hiding without a reason: %v", err)
	}
	if _, err := s.HideComment(ctx, c.ID, civic.Moderation{Reason: "vulgar"}, f.admin.ID); code(err) != civic.EINVALID {
		t.Fatalf("unknown reason: %v", err)
	}
	if _, err := s.HideComment(ctx, "nope", civic.Moderation{Reason: civic.ReasonOther}, f.admin.ID); code(err) != civic.ENOTFOUND {
		t.Fatalf("unknown comment: %v", err)
	}
	got, err := s.HideComment(ctx, c.ID, civic.Moderation{Reason: civic.ReasonOffTopic, Note: "Parlez du Var."}, f.admin.ID)
	if err != nil || got.Status != civic.CommentHidden || got.Moderation == nil || *got.Moderation != (civic.Moderation{Reason: civic.ReasonOffTopic, Note: "Parlez du Var."}) {
		t.Fatalf("hidden comment %+v %v", got, err)
	}
	if cs, _ := s.Comments(ctx, p.ID, false); len(cs) != 0 {
		t.Fatalf("public comments %+v", cs)
	}
	if cs, _ := s.Comments(ctx, p.ID, true); len(cs) != 1 || cs[0].Moderation == nil || cs[0].Moderation.Reason != civic.ReasonOffTopic {
		t.Fatalf("all comments %+v", cs)
	}
	found := false
	audit, _ := s.AuditLog(ctx, 100)
	for _, a := range audit {
		found = found || (a.Action == "comment.moderate" && a.Target == c.ID && a.Detail == "hidden reason_code=off_topic note=Parlez du Var.")
	}
	if !found {
		t.Fatalf("audit log lacks the hiding with its reason: %+v", audit)
	}
	// Approving it again clears the moderation.
	if got, err := s.ModerateComment(ctx, c.ID, civic.CommentApproved, f.admin.ID); err != nil || got.Moderation != nil || got.Status != civic.CommentApproved {
		t.Fatalf("approved again %+v %v", got, err)
	}
}

// testModerationMigration goes down to version 2 (a refused proposal becomes
// submitted: hidden, not public), writes what the old code wrote for a
// moderation refusal (submitted -> rejected) and for a public rejection
// (published -> rejected), and goes up again.
func testModerationMigration(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	s := b.Store
	f := newFixture(t, s, 1)
	refused := f.proposal(t, 10, "securite")
	if _, err := s.RefuseProposal(ctx, refused.ID, f.admin, civic.Moderation{Reason: civic.ReasonDuplicate}, time.Now()); err != nil {
		t.Fatal(err)
	}
	legacy := f.proposal(t, 10, "securite")
	public := f.proposal(t, 10, "securite")
	f.move(t, public.ID, f.admin, civic.StatusPublished, civic.StatusRejected) // reason "raison"

	dialect := goose.DialectSQLite3
	if s.Postgres() {
		dialect = goose.DialectPostgres
	}
	gp, err := goose.NewProvider(dialect, s.DB(), os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gp.DownTo(ctx, 2); err != nil {
		t.Fatalf("down to 2: %v", err)
	}
	db := s.DB()
	q := func(query string) string { // $n placeholders for PostgreSQL
		for i := 1; s.Postgres() && strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
		return query
	}
	var st string
	if err := db.QueryRowContext(ctx, q(`SELECT status FROM proposals WHERE id = ?`), refused.ID).Scan(&st); err != nil || st != "submitted" {
		t.Fatalf("after down, the refused proposal is %q (%v), want submitted", st, err)
	}
	// What the old code stored for a moderator's refusal.
	if _, err := db.ExecContext(ctx, q(`UPDATE proposals SET status = 'rejected', rejection_reason = ? WHERE id = ?`), "Propos injurieux.", legacy.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, q(`INSERT INTO proposal_history (proposal_id, seq, from_status, to_status, by_user, reason, at)
		VALUES (?, 2, 'submitted', 'rejected', ?, ?, ?)`), legacy.ID, f.admin.ID, "Propos injurieux.", time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}

	up := sqltest.Replica(t, b).Store // Open migrates up
	got, err := up.Proposal(ctx, legacy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != civic.StatusRefused || got.RejectionReason != "" || got.Moderation == nil ||
		*got.Moderation != (civic.Moderation{Reason: civic.ReasonOther, Note: "Propos injurieux."}) {
		t.Fatalf("legacy moderation refusal after up: %+v (moderation %+v)", got, got.Moderation)
	}
	h, err := up.History(ctx, legacy.ID)
	if err != nil || len(h) != 2 || h[1].To != civic.StatusRefused || h[1].ReasonCode != civic.ReasonOther || h[1].Reason != "Propos injurieux." {
		t.Fatalf("legacy history %+v %v", h, err)
	}
	if got, err := up.Proposal(ctx, public.ID); err != nil || got.Status != civic.StatusRejected || got.RejectionReason != "raison" || got.Moderation != nil {
		t.Fatalf("a public rejection after up: %+v %v", got, err)
	}
	if got, err := up.Proposal(ctx, refused.ID); err != nil || got.Status != civic.StatusSubmitted {
		t.Fatalf("proposal refused before the round trip: %+v %v", got, err)
	}
}
