package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

var _ civic.ModerationService = (*Store)(nil)

// FlagContent stores a citizen's flag of a public proposal or an approved
// comment of a public proposal (civic.CheckFlag), once per person and item
// (the unique index content_flags_once: a second one is ECONFLICT).
func (s *Store) FlagContent(ctx context.Context, f *civic.Flag, u *civic.User) error {
	if err := f.Validate(); err != nil {
		return err
	}
	var proposalID, status string
	var author sql.NullString
	var public bool
	var err error
	switch f.Kind {
	case civic.TargetProposal:
		err = s.row(ctx, s.db, `SELECT id, author_id, status FROM proposals WHERE id = ?`, f.TargetID).Scan(&proposalID, &author, &status)
		public = err == nil && civic.Status(status).Public()
	case civic.TargetComment:
		var pstatus string
		err = s.row(ctx, s.db, `SELECT c.proposal_id, c.author_id, c.status, p.status FROM comments c JOIN proposals p ON p.id = c.proposal_id WHERE c.id = ?`,
			f.TargetID).Scan(&proposalID, &author, &status, &pstatus)
		public = err == nil && civic.CommentStatus(status) == civic.CommentApproved && civic.Status(pstatus).Public()
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("flag target: %w", err)
	}
	if err := civic.CheckFlag(u, author.String, public); err != nil {
		if civic.ErrorCode(err) == civic.ENOTFOUND {
			return civic.Errorf(civic.ENOTFOUND, "%s not found", f.Kind)
		}
		return err
	}
	f.ID, f.UserID = civic.NewID(), u.ID
	if f.Created.IsZero() {
		f.Created = time.Now()
	}
	f.Created = f.Created.UTC()
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO content_flags (id, target_kind, target_id, proposal_id, user_id, reason_code, note, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, string(f.Kind), f.TargetID, proposalID, u.ID, string(f.Reason), f.Note, ms(f.Created))
		if isUnique(err) {
			return civic.Errorf(civic.ECONFLICT, "you have already flagged this %s", f.Kind)
		}
		if err != nil {
			return fmt.Errorf("flag: %w", err)
		}
		return s.audit(ctx, tx, u.ID, "content.flag", string(f.Kind)+":"+f.TargetID, "reason_code="+string(f.Reason))
	})
}

// openFlags counts the open flags of an item.
const openFlags = `(SELECT COUNT(*) FROM content_flags f WHERE f.target_kind = ? AND f.target_id = %s AND f.resolved IS NULL)`

// ModerationQueue lists, in one statement, up to limit (default 100, at most
// 500) items waiting for a moderator: submitted proposals, pending comments,
// and public ones with open flags; the most flagged first, then the oldest.
// The flags' reasons and notes of the listed items take one more statement.
func (s *Store) ModerationQueue(ctx context.Context, limit int) ([]*civic.QueueItem, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	pf, cf := fmt.Sprintf(openFlags, "p.id"), fmt.Sprintf(openFlags, "c.id")
	q := `SELECT kind, id, proposal_id, title, body, author_id, author_name, status, created, flags FROM (
		SELECT 'proposal' AS kind, p.id AS id, p.id AS proposal_id, p.title AS title, p.body AS body,
			COALESCE(p.author_id, '') AS author_id, COALESCE(u.name, '') AS author_name, p.status AS status, p.created AS created, ` + pf + ` AS flags
		FROM proposals p LEFT JOIN users u ON u.id = p.author_id
		WHERE p.status = ? OR (p.status <> ? AND EXISTS (SELECT 1 FROM content_flags f WHERE f.target_kind = ? AND f.target_id = p.id AND f.resolved IS NULL))
		UNION ALL
		SELECT 'comment', c.id, c.proposal_id, p.title, c.body, COALESCE(c.author_id, ''), COALESCE(u.name, ''), c.status, c.created, ` + cf + `
		FROM comments c JOIN proposals p ON p.id = c.proposal_id LEFT JOIN users u ON u.id = c.author_id
		WHERE c.status = ? OR (c.status = ? AND EXISTS (SELECT 1 FROM content_flags f WHERE f.target_kind = ? AND f.target_id = c.id AND f.resolved IS NULL))
	) q ORDER BY flags DESC, created, id LIMIT ?`
	rows, err := s.query(ctx, s.db, q,
		string(civic.TargetProposal), string(civic.StatusSubmitted), string(civic.StatusRefused), string(civic.TargetProposal),
		string(civic.TargetComment), string(civic.CommentPending), string(civic.CommentApproved), string(civic.TargetComment), limit)
	if err != nil {
		return nil, fmt.Errorf("moderation queue: %w", err)
	}
	defer rows.Close()
	out := []*civic.QueueItem{}
	byKey := map[string]*civic.QueueItem{}
	var flagged []string
	for rows.Next() {
		var it civic.QueueItem
		var kind string
		var created int64
		if err := rows.Scan(&kind, &it.ID, &it.ProposalID, &it.Title, &it.Body, &it.AuthorID, &it.AuthorName, &it.Status, &created, &it.Flags); err != nil {
			return nil, fmt.Errorf("scan queue item: %w", err)
		}
		it.Kind, it.Created = civic.TargetKind(kind), fromMS(created)
		out = append(out, &it)
		byKey[kind+":"+it.ID] = &it
		if it.Flags > 0 {
			flagged = append(flagged, it.ID)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("moderation queue: %w", err)
	}
	rows.Close()
	if len(flagged) == 0 {
		return out, nil
	}
	cond, arg, err := s.core.InIDs("target_id", flagged)
	if err != nil {
		return nil, err
	}
	frows, err := s.query(ctx, s.db, `SELECT target_kind, target_id, reason_code, note FROM content_flags
		WHERE resolved IS NULL AND `+cond+` ORDER BY created DESC, id`, arg)
	if err != nil {
		return nil, fmt.Errorf("queue flags: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var kind, id, reason, note string
		if err := frows.Scan(&kind, &id, &reason, &note); err != nil {
			return nil, fmt.Errorf("scan flag: %w", err)
		}
		it := byKey[kind+":"+id]
		if it == nil {
			continue
		}
		if it.Reasons == nil {
			it.Reasons = map[civic.ModerationReason]int{}
		}
		it.Reasons[civic.ModerationReason(reason)]++
		if note != "" && len(it.Notes) < 5 {
			it.Notes = append(it.Notes, note)
		}
	}
	return out, frows.Err()
}

// KeepContent is the decision to keep a public item that was flagged: its
// open flags are closed and the decision is in the history. An item that is
// not public, or has no open flag, is ECONFLICT (nothing to decide).
func (s *Store) KeepContent(ctx context.Context, kind civic.TargetKind, id string, actor *civic.User, now time.Time) error {
	if !actor.Role.Moderates() {
		return civic.Errorf(civic.EFORBIDDEN, "only moderators decide")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var proposalID, status string
		var err error
		public := false
		switch kind {
		case civic.TargetProposal:
			err = s.row(ctx, tx, `SELECT id, status FROM proposals WHERE id = ?`, id).Scan(&proposalID, &status)
			public = civic.Status(status).Public()
		case civic.TargetComment:
			err = s.row(ctx, tx, `SELECT proposal_id, status FROM comments WHERE id = ?`, id).Scan(&proposalID, &status)
			public = civic.CommentStatus(status) == civic.CommentApproved
		default:
			return civic.FieldError("kind", "want proposal or comment")
		}
		if err != nil {
			return notFound(err, string(kind))
		}
		if !public {
			return civic.Errorf(civic.ECONFLICT, "only a public %s is kept; this one is %s", kind, status)
		}
		closed, err := s.decided(ctx, tx, kind, id, proposalID, "", civic.DecisionKeep, civic.Moderation{}, actor.ID, now)
		if err != nil {
			return err
		}
		if closed == 0 {
			return civic.Errorf(civic.ECONFLICT, "this %s has no open flag", kind)
		}
		return s.audit(ctx, tx, actor.ID, "content.keep", string(kind)+":"+id, fmt.Sprintf("flags_closed=%d", closed))
	})
}

// decided records, inside the transaction of a moderation step, the
// decision on an item: its open flags are closed, the decision goes to the
// history, and a refusal queues its mail to the author (if the author's
// address is verified: the outbox never writes to unconfirmed addresses).
// It returns the number of flags closed.
func (s *Store) decided(ctx context.Context, tx *sql.Tx, kind civic.TargetKind, id, proposalID, authorID string, d civic.Decision,
	m civic.Moderation, actor string, now time.Time) (int, error) {
	res, err := s.exec(ctx, tx, `UPDATE content_flags SET resolved = ? WHERE target_kind = ? AND target_id = ? AND resolved IS NULL`,
		ms(now), string(kind), id)
	if err != nil {
		return 0, fmt.Errorf("close flags: %w", err)
	}
	n, _ := res.RowsAffected()
	did := civic.NewID()
	if _, err := s.exec(ctx, tx, `INSERT INTO moderation_decisions (id, target_kind, target_id, proposal_id, actor_id, decision, reason_code, note, flags, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, did, string(kind), id, proposalID, actor, string(d), string(m.Reason), m.Note, n, ms(now)); err != nil {
		return 0, fmt.Errorf("record decision: %w", err)
	}
	if d == civic.DecisionRefuse && authorID != "" && authorID != actor {
		_, err := s.exec(ctx, tx, `INSERT INTO mail_outbox (id, kind, user_id, recipient, detail, created, next_attempt, proposal_id)
			SELECT ?, ?, u.id, u.email, ?, ?, ?, ? FROM users u WHERE u.id = ? AND `+mailable,
			"moderation:"+did, string(civic.MailModeration), did, ms(now), ms(now), proposalID, authorID)
		if err != nil {
			return 0, fmt.Errorf("queue moderation mail: %w", err)
		}
	}
	return int(n), nil
}

// ModerationHistory lists the latest decisions (default 100, at most 500),
// newest first, with the proposal's title and the moderator's name.
func (s *Store) ModerationHistory(ctx context.Context, limit int) ([]*civic.ModerationDecision, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.query(ctx, s.db, `SELECT d.id, d.target_kind, d.target_id, d.proposal_id, COALESCE(p.title, ''), d.actor_id, COALESCE(u.name, ''),
		d.decision, d.reason_code, d.note, d.flags, d.at
		FROM moderation_decisions d LEFT JOIN proposals p ON p.id = d.proposal_id LEFT JOIN users u ON u.id = d.actor_id
		ORDER BY d.at DESC, d.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("moderation history: %w", err)
	}
	defer rows.Close()
	out := []*civic.ModerationDecision{}
	for rows.Next() {
		var d civic.ModerationDecision
		var kind, dec, reason string
		var at int64
		if err := rows.Scan(&d.ID, &kind, &d.TargetID, &d.ProposalID, &d.Title, &d.ActorID, &d.ActorName, &dec, &reason, &d.Note, &d.Flags, &at); err != nil {
			return nil, fmt.Errorf("scan decision: %w", err)
		}
		d.Kind, d.Decision, d.Reason, d.At = civic.TargetKind(kind), civic.Decision(dec), civic.ModerationReason(reason), fromMS(at)
		out = append(out, &d)
	}
	return out, rows.Err()
}

// ModerationMailFor reads what the mail of refusal decisionID says: the
// author's current name and address (still verified), the proposal's title
// and, for a comment, its text. ENOTFOUND when the decision, the item or
// the author is gone.
func (s *Store) ModerationMailFor(ctx context.Context, decisionID string) (*civic.ModerationMail, error) {
	var m civic.ModerationMail
	var kind, reason string
	var excerpt sql.NullString
	err := s.row(ctx, s.db, `SELECT u.name, u.email, d.target_kind, d.proposal_id, p.title, c.body, d.reason_code, d.note
		FROM moderation_decisions d
		JOIN proposals p ON p.id = d.proposal_id
		LEFT JOIN comments c ON d.target_kind = 'comment' AND c.id = d.target_id
		JOIN users u ON u.id = CASE WHEN d.target_kind = 'comment' THEN c.author_id ELSE p.author_id END
		WHERE d.id = ? AND d.decision = ? AND `+mailable, decisionID, string(civic.DecisionRefuse)).
		Scan(&m.Name, &m.Email, &kind, &m.ProposalID, &m.Title, &excerpt, &reason, &m.Note)
	if err != nil {
		return nil, notFound(err, "moderation decision")
	}
	m.Kind, m.Excerpt, m.Reason = civic.TargetKind(kind), excerpt.String, civic.ModerationReason(reason)
	return &m, nil
}

// UserFlags lists the flags userID gave, newest first (the GDPR export; at
// most 10,000).
func (s *Store) UserFlags(ctx context.Context, userID string) ([]*civic.Flag, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, target_kind, target_id, reason_code, note, created FROM content_flags
		WHERE user_id = ? ORDER BY created DESC, id LIMIT 10000`, userID)
	if err != nil {
		return nil, fmt.Errorf("user flags: %w", err)
	}
	defer rows.Close()
	out := []*civic.Flag{}
	for rows.Next() {
		var f civic.Flag
		var kind, reason string
		var created int64
		if err := rows.Scan(&f.ID, &kind, &f.TargetID, &reason, &f.Note, &created); err != nil {
			return nil, fmt.Errorf("scan flag: %w", err)
		}
		f.Kind, f.Reason, f.UserID, f.Created = civic.TargetKind(kind), civic.ModerationReason(reason), userID, fromMS(created)
		out = append(out, &f)
	}
	return out, rows.Err()
}
