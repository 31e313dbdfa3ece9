package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

var _ civic.RealizationService = (*Store)(nil)

const realizationCols = `id, proposal_id, author_id, body, milestone, milestone_date, progress, actual_cost_eur, created`

func scanRealization(r interface{ Scan(...any) error }) (*civic.RealizationUpdate, error) {
	var u civic.RealizationUpdate
	var author sql.NullString
	var date, cost sql.NullInt64
	var progress sql.NullInt64
	var created int64
	if err := r.Scan(&u.ID, &u.ProposalID, &author, &u.Body, &u.Milestone, &date, &progress, &cost, &created); err != nil {
		return nil, err
	}
	u.AuthorID, u.MilestoneDate, u.Created = author.String, fromNullMS(date), fromMS(created)
	if progress.Valid {
		p := int(progress.Int64)
		u.Progress = &p
	}
	if cost.Valid {
		u.ActualCostEUR = &cost.Int64
	}
	return &u, nil
}

// AddRealizationUpdate stores u and, in the same transaction, queues one
// mail per person who wants status e-mails about the proposal (its author
// and supporters who opted in, never the update's author): the row id names
// the update and the person, so nothing is queued twice.
func (s *Store) AddRealizationUpdate(ctx context.Context, u *civic.RealizationUpdate) (int, error) {
	if err := u.Validate(); err != nil {
		return 0, err
	}
	u.ID = civic.NewID()
	if u.Created.IsZero() {
		u.Created = time.Now()
	}
	u.Created = u.Created.UTC()
	var date, progress, cost sql.NullInt64
	if u.MilestoneDate != nil {
		date = sql.NullInt64{Int64: ms(*u.MilestoneDate), Valid: true}
	}
	if u.Progress != nil {
		progress = sql.NullInt64{Int64: int64(*u.Progress), Valid: true}
	}
	if u.ActualCostEUR != nil {
		cost = sql.NullInt64{Int64: *u.ActualCostEUR, Valid: true}
	}
	var mails int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var status string
		if err := s.row(ctx, tx, `SELECT status FROM proposals WHERE id = ?`, u.ProposalID).Scan(&status); err != nil {
			return notFound(err, "proposal")
		}
		if err := civic.CheckRealization(civic.Status(status)); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO realization_updates (`+realizationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.ProposalID, u.AuthorID, u.Body, u.Milestone, date, progress, cost, ms(u.Created)); err != nil {
			return fmt.Errorf("insert realization update: %w", err)
		}
		res, err := s.exec(ctx, tx, `INSERT INTO mail_outbox (id, kind, user_id, recipient, detail, created, next_attempt, proposal_id, proposal_status)
			SELECT 'realization:' || CAST(? AS TEXT) || ':' || u.id, ?, u.id, u.email, ?, ?, ?, p.id, p.status
			FROM proposals p
			JOIN users u ON u.id IN (SELECT author_id FROM proposals WHERE id = p.id UNION SELECT user_id FROM votes WHERE proposal_id = p.id)
			JOIN notification_prefs np ON np.user_id = u.id
			WHERE p.id = ? AND u.id <> ? AND `+mailable+` AND `+wants+`
			ON CONFLICT (id) DO NOTHING`,
			u.ID, string(civic.MailRealization), u.ID, ms(u.Created), ms(u.Created), u.ProposalID, u.AuthorID)
		if err != nil {
			return fmt.Errorf("queue realization mails: %w", err)
		}
		mails, _ = res.RowsAffected()
		return s.audit(ctx, tx, u.AuthorID, "proposal.realization", u.ProposalID, fmt.Sprintf("update=%s mails=%d", u.ID, mails))
	})
	return int(mails), err
}

// RealizationUpdates lists a proposal's updates, newest first.
func (s *Store) RealizationUpdates(ctx context.Context, proposalID string) ([]*civic.RealizationUpdate, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+realizationCols+` FROM realization_updates WHERE proposal_id = ? ORDER BY created DESC, id DESC LIMIT 200`, proposalID)
	if err != nil {
		return nil, fmt.Errorf("realization updates: %w", err)
	}
	defer rows.Close()
	out := []*civic.RealizationUpdate{}
	for rows.Next() {
		u, err := scanRealization(rows)
		if err != nil {
			return nil, fmt.Errorf("scan realization update: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RealizationUpdate is one update.
func (s *Store) RealizationUpdate(ctx context.Context, id string) (*civic.RealizationUpdate, error) {
	u, err := scanRealization(s.row(ctx, s.db, `SELECT `+realizationCols+` FROM realization_updates WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "realization update")
	}
	return u, nil
}
