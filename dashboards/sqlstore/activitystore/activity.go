// Package activitystore is the SQL adapter's account of what one user
// contributed (civic.ActivityService), over the core in package sqldb.
// sqlstore.Store embeds it.
package activitystore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
)

// Proposals is the proposal listing Activity starts from: the store's
// (sqlstore.Store), so that who sees which proposal is decided in one place.
type Proposals interface {
	Proposals(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error)
}

// Store reads a user's activity.
type Store struct {
	db        *sqldb.DB
	proposals Proposals
}

var _ civic.ActivityService = (*Store)(nil)

// New returns the activity store on db, listing proposals with proposals.
func New(db *sqldb.DB, proposals Proposals) *Store { return &Store{db: db, proposals: proposals} }

// Activity gathers what userID contributed, for their own page ("Mon
// compte") and GET /api/v1/me/activity: their proposals in every status
// with the reason of the latest status change, the proposals they support
// (and whether voting is still open at now, so they may withdraw), and their
// comments in every moderation state with the proposal's title. Newest
// first, at most civic.ActivityLimit of each; four queries.
func (s *Store) Activity(ctx context.Context, userID string, now time.Time) (*civic.Activity, error) {
	a := &civic.Activity{Proposals: []*civic.ActivityProposal{}, Supports: []*civic.ActivitySupport{}, Comments: []*civic.ActivityComment{}}
	ps, err := s.proposals.Proposals(ctx, civic.ProposalFilter{AuthorID: userID, Limit: civic.ActivityLimit})
	if err != nil {
		return nil, err
	}
	reasons := map[string]string{}
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT h.proposal_id, h.reason FROM proposal_history h JOIN proposals p ON p.id = h.proposal_id
		WHERE p.author_id = ? AND h.seq = (SELECT MAX(seq) FROM proposal_history h2 WHERE h2.proposal_id = h.proposal_id)`, userID)
	if err != nil {
		return nil, fmt.Errorf("activity reasons: %w", err)
	}
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan reason: %w", err)
		}
		reasons[id] = reason
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity reasons: %w", err)
	}
	for _, p := range ps {
		a.Proposals = append(a.Proposals, &civic.ActivityProposal{Proposal: *p, StatusReason: civic.StatusReason(p, reasons[p.ID])})
	}

	rows, err = s.db.Query(ctx, s.db.Pool(), `SELECT p.id, p.title, p.status, c.starts, c.ends, v.created,
		(SELECT COUNT(*) FROM votes v2 WHERE v2.proposal_id = p.id) + p.erased_votes
		FROM votes v JOIN proposals p ON p.id = v.proposal_id JOIN campaigns c ON c.id = p.campaign_id
		WHERE v.user_id = ? ORDER BY v.created DESC, p.id LIMIT ?`, userID, civic.ActivityLimit)
	if err != nil {
		return nil, fmt.Errorf("activity supports: %w", err)
	}
	for rows.Next() {
		var sp civic.ActivitySupport
		var status string
		var starts, ends, created int64
		if err := rows.Scan(&sp.ProposalID, &sp.Title, &status, &starts, &ends, &created, &sp.Votes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan support: %w", err)
		}
		sp.Status, sp.Supported = civic.Status(status), sqldb.FromMS(created)
		sp.VotingOpen = civic.VotingOpenAt(sp.Status, &civic.Campaign{Starts: sqldb.FromMS(starts), Ends: sqldb.FromMS(ends)}, now)
		a.Supports = append(a.Supports, &sp)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity supports: %w", err)
	}

	rows, err = s.db.Query(ctx, s.db.Pool(), `SELECT c.id, c.proposal_id, c.author_id, c.body, c.status, c.created, p.title, p.status
		FROM comments c JOIN proposals p ON p.id = c.proposal_id
		WHERE c.author_id = ? ORDER BY c.created DESC, c.id LIMIT ?`, userID, civic.ActivityLimit)
	if err != nil {
		return nil, fmt.Errorf("activity comments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cm civic.ActivityComment
		var author sql.NullString
		var status, pstatus string
		var created int64
		if err := rows.Scan(&cm.ID, &cm.ProposalID, &author, &cm.Body, &status, &created, &cm.ProposalTitle, &pstatus); err != nil {
			return nil, fmt.Errorf("scan comment: %w", err)
		}
		cm.AuthorID, cm.Status, cm.Created, cm.ProposalStatus = author.String, civic.CommentStatus(status), sqldb.FromMS(created), civic.Status(pstatus)
		a.Comments = append(a.Comments, &cm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity comments: %w", err)
	}
	return a, nil
}
