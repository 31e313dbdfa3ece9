package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Vote adds userID's support to a proposal whose voting is open at now
// (civic.CheckVote: status published or shortlisted, campaign period
// running). The rule decides on the proposal's status as read; the insert
// is then conditional on the proposal still having that status (one
// INSERT … SELECT … WHERE status = <read status>, a compare-and-set as
// SetStatus's update), so a status change that commits first makes it insert
// nothing, and the rule decides again on the new status. The votes table's
// primary key (proposal_id, user_id) makes a second vote a no-op, whatever
// the concurrency: the insert is ON CONFLICT DO NOTHING.
func (s *Store) Vote(ctx context.Context, proposalID, userID string, now time.Time) (bool, int, error) {
	n, err := s.guardedVote(ctx, proposalID, now, func(st civic.Status) (sql.Result, error) {
		return s.exec(ctx, s.db, `INSERT INTO votes (proposal_id, user_id, created)
			SELECT id, ?, ? FROM proposals WHERE id = ? AND status = ?
			ON CONFLICT (proposal_id, user_id) DO NOTHING`, userID, ms(now), proposalID, string(st))
	})
	if err != nil {
		return false, 0, fmt.Errorf("vote: %w", err)
	}
	count, err := s.voteCount(ctx, proposalID)
	return n > 0, count, err
}

// Unvote withdraws userID's support while voting is open at now, decided
// and guarded as Vote does.
func (s *Store) Unvote(ctx context.Context, proposalID, userID string, now time.Time) (bool, int, error) {
	n, err := s.guardedVote(ctx, proposalID, now, func(st civic.Status) (sql.Result, error) {
		return s.exec(ctx, s.db, `DELETE FROM votes WHERE proposal_id = ? AND user_id = ?
			AND EXISTS (SELECT 1 FROM proposals WHERE id = ? AND status = ?)`, proposalID, userID, proposalID, string(st))
	})
	if err != nil {
		return false, 0, fmt.Errorf("withdraw vote: %w", err)
	}
	count, err := s.voteCount(ctx, proposalID)
	return n > 0, count, err
}

// guardedVote reads the proposal's status and its campaign's period, asks
// civic.CheckVote, and runs change, which must touch nothing unless the
// proposal is still in the status read. When it changes nothing, the status
// is read again: unchanged, there was nothing to change (a support already
// given, or none to withdraw); changed, the rule decides again, at most
// three times.
func (s *Store) guardedVote(ctx context.Context, proposalID string, now time.Time, change func(civic.Status) (sql.Result, error)) (int64, error) {
	var tried civic.Status
	for range 3 {
		var status string
		var starts, ends int64
		err := s.row(ctx, s.db, `SELECT p.status, c.starts, c.ends FROM proposals p JOIN campaigns c ON c.id = p.campaign_id WHERE p.id = ?`,
			proposalID).Scan(&status, &starts, &ends)
		if err != nil {
			return 0, notFound(err, "proposal")
		}
		st := civic.Status(status)
		if err := civic.CheckVote(st, &civic.Campaign{Starts: fromMS(starts), Ends: fromMS(ends)}, now); err != nil {
			return 0, err
		}
		if st == tried {
			return 0, nil
		}
		res, err := change(st)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			return n, err
		}
		tried = st
	}
	return 0, civic.Errorf(civic.ECONFLICT, "the proposal changed meanwhile; reload and retry")
}

// HasVoted reports whether userID supports the proposal (shown to that user only).
func (s *Store) HasVoted(ctx context.Context, proposalID, userID string) (bool, error) {
	var n int
	if err := s.row(ctx, s.db, `SELECT COUNT(*) FROM votes WHERE proposal_id = ? AND user_id = ?`, proposalID, userID).Scan(&n); err != nil {
		return false, fmt.Errorf("has voted: %w", err)
	}
	return n > 0, nil
}

func (s *Store) voteCount(ctx context.Context, proposalID string) (int, error) {
	var n int
	if err := s.row(ctx, s.db, `SELECT (SELECT COUNT(*) FROM votes WHERE proposal_id = ?) + COALESCE((SELECT erased_votes FROM proposals WHERE id = ?), 0)`,
		proposalID, proposalID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count votes: %w", err)
	}
	return n, nil
}

const commentCols = `id, proposal_id, author_id, body, status, created, moderation_reason, moderation_note`

func scanComments(rows *sql.Rows) ([]*civic.Comment, error) {
	defer rows.Close()
	out := []*civic.Comment{}
	for rows.Next() {
		var c civic.Comment
		var author sql.NullString
		var status string
		var created int64
		var m civic.Moderation
		if err := rows.Scan(&c.ID, &c.ProposalID, &author, &c.Body, &status, &created, &m.Reason, &m.Note); err != nil {
			return nil, fmt.Errorf("scan comment: %w", err)
		}
		c.AuthorID, c.Status, c.Created = author.String, civic.CommentStatus(status), fromMS(created)
		if m.Reason != "" {
			c.Moderation = &m
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// AddComment stores a comment waiting for moderation on a public proposal,
// created at c.Created (now when zero).
func (s *Store) AddComment(ctx context.Context, c *civic.Comment) error {
	if err := c.Validate(); err != nil {
		return err
	}
	p, err := s.Proposal(ctx, c.ProposalID)
	if err != nil {
		return err
	}
	if !p.Status.Public() {
		return civic.Errorf(civic.ECONFLICT, "the proposal is not published")
	}
	if c.Created.IsZero() { // the caller's clock, if it gave one
		c.Created = time.Now()
	}
	c.ID, c.Status, c.Created = civic.NewID(), civic.CommentPending, c.Created.UTC()
	_, err = s.exec(ctx, s.db, `INSERT INTO comments (`+commentCols+`) VALUES (?, ?, ?, ?, ?, ?, '', '')`,
		c.ID, c.ProposalID, c.AuthorID, c.Body, string(c.Status), ms(c.Created))
	if err != nil {
		return fmt.Errorf("insert comment: %w", err)
	}
	return nil
}

// Comments lists a proposal's comments: approved ones, or all with all.
func (s *Store) Comments(ctx context.Context, proposalID string, all bool) ([]*civic.Comment, error) {
	q := `SELECT ` + commentCols + ` FROM comments WHERE proposal_id = ?`
	args := []any{proposalID}
	if !all { // the comments everyone reads (civic.CommentListed for a visitor)
		q += ` AND status = ?`
		args = append(args, string(civic.CommentApproved))
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY created, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("comments: %w", err)
	}
	return scanComments(rows)
}

// ModerateComment approves a comment, clearing the moderation of a comment
// hidden before; hiding takes HideComment and its reason.
func (s *Store) ModerateComment(ctx context.Context, id string, status civic.CommentStatus, actor string) (*civic.Comment, error) {
	switch status {
	case civic.CommentApproved:
	case civic.CommentHidden:
		return nil, civic.FieldError("reason_code", "required to hide a comment")
	default:
		return nil, civic.FieldError("status", "want approved or hidden")
	}
	return s.moderateComment(ctx, id, status, civic.Moderation{}, actor)
}

// HideComment hides a comment with the moderator's reason: only its author
// (who is told the reason) and the moderators see it afterwards.
func (s *Store) HideComment(ctx context.Context, id string, m civic.Moderation, actor string) (*civic.Comment, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return s.moderateComment(ctx, id, civic.CommentHidden, m, actor)
}

func (s *Store) moderateComment(ctx context.Context, id string, status civic.CommentStatus, m civic.Moderation, actor string) (*civic.Comment, error) {
	detail := string(status)
	if m.Reason != "" {
		detail += " reason_code=" + string(m.Reason)
		if m.Note != "" {
			detail += " note=" + m.Note
		}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var proposalID, was string
		var author sql.NullString
		err := s.row(ctx, tx, `SELECT proposal_id, author_id, status FROM comments WHERE id = ?`, id).Scan(&proposalID, &author, &was)
		if err != nil {
			return notFound(err, "comment")
		}
		if _, err := s.exec(ctx, tx, `UPDATE comments SET status = ?, moderation_reason = ?, moderation_note = ? WHERE id = ?`,
			string(status), string(m.Reason), m.Note, id); err != nil {
			return fmt.Errorf("moderate comment: %w", err)
		}
		if err := s.audit(ctx, tx, actor, "comment.moderate", id, detail); err != nil {
			return err
		}
		// Every comment moderation is a decision of the history (it closes
		// the comment's flags; a refusal is mailed to its author).
		d := civic.DecisionFor(status == civic.CommentHidden, was == string(civic.CommentPending))
		_, err = s.decided(ctx, tx, civic.TargetComment, id, proposalID, author.String, d, m, actor, time.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+commentCols+` FROM comments WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("comment: %w", err)
	}
	cs, err := scanComments(rows)
	if err != nil || len(cs) == 0 {
		return nil, fmt.Errorf("comment %s vanished: %w", id, err)
	}
	return cs[0], nil
}

const reviewCols = `proposal_id, expert_id, impact, feasibility, cost, comment, created`

func scanReviews(rows *sql.Rows) ([]*civic.Review, error) {
	defer rows.Close()
	out := []*civic.Review{}
	for rows.Next() {
		var r civic.Review
		var expert sql.NullString // NULL once the expert's account is erased
		var created int64
		if err := rows.Scan(&r.ProposalID, &expert, &r.Impact, &r.Feasibility, &r.Cost, &r.Comment, &created); err != nil {
			return nil, fmt.Errorf("scan review: %w", err)
		}
		r.ExpertID, r.Created = expert.String, fromMS(created)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// PutReview stores (or replaces) an expert's review of a proposal whose
// status is civic.Status.Reviewable (shortlisted or under review), dated
// r.Created (now when zero).
func (s *Store) PutReview(ctx context.Context, r *civic.Review) error {
	if err := r.Validate(); err != nil {
		return err
	}
	p, err := s.Proposal(ctx, r.ProposalID)
	if err != nil {
		return err
	}
	if !p.Status.Reviewable() {
		return civic.Errorf(civic.ECONFLICT, "only shortlisted or under-review proposals are reviewed (status is %s)", p.Status)
	}
	if r.Created.IsZero() { // the caller's clock, if it gave one
		r.Created = time.Now()
	}
	r.Created = r.Created.UTC()
	_, err = s.exec(ctx, s.db, `INSERT INTO reviews (`+reviewCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (proposal_id, expert_id) DO UPDATE SET impact = excluded.impact, feasibility = excluded.feasibility,
		cost = excluded.cost, comment = excluded.comment, created = excluded.created`,
		r.ProposalID, r.ExpertID, r.Impact, r.Feasibility, r.Cost, r.Comment, ms(r.Created))
	if err != nil {
		return fmt.Errorf("put review: %w", err)
	}
	return nil
}

// Reviews lists a proposal's expert reviews.
func (s *Store) Reviews(ctx context.Context, proposalID string) ([]*civic.Review, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+reviewCols+` FROM reviews WHERE proposal_id = ? ORDER BY created`, proposalID)
	if err != nil {
		return nil, fmt.Errorf("reviews: %w", err)
	}
	return scanReviews(rows)
}
