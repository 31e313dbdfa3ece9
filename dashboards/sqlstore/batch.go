package sqlstore

import (
	"context"
	"fmt"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Batch reads: what a view (dashboards/app) needs of many rows at once, in
// one statement whatever their number, so that a page never makes a query
// per item it shows. Ids not found are left out; the order is the ids'
// (lexical), not the caller's. The ids are one argument whatever their
// number (sqldb.DB.InIDs).

// ProposalsByIDs returns the proposals of ids, with their vote counts.
func (s *Store) ProposalsByIDs(ctx context.Context, ids []string) ([]*civic.Proposal, error) {
	out := []*civic.Proposal{}
	if len(ids) == 0 {
		return out, nil
	}
	cond, arg, err := s.core.InIDs("p.id", ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+proposalCols+` FROM proposals p WHERE `+cond+` ORDER BY p.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("proposals by id: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("scan proposal: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DevicesByIDs returns the devices of ids.
func (s *Store) DevicesByIDs(ctx context.Context, ids []string) ([]*civic.Device, error) {
	out := []*civic.Device{}
	if len(ids) == 0 {
		return out, nil
	}
	cond, arg, err := s.core.InIDs("id", ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+deviceCols+` FROM devices WHERE `+cond+` ORDER BY id`, arg)
	if err != nil {
		return nil, fmt.Errorf("devices by id: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("scan device: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UsersByIDs returns the accounts of ids (erased accounts are not found).
func (s *Store) UsersByIDs(ctx context.Context, ids []string) ([]*civic.User, error) {
	out := []*civic.User{}
	if len(ids) == 0 {
		return out, nil
	}
	cond, arg, err := s.core.InIDs("id", ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+userCols+` FROM users WHERE `+cond+` ORDER BY id`, arg)
	if err != nil {
		return nil, fmt.Errorf("users by id: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ProposalMissions returns the missions linked to a proposal, by id, each
// with all its linked proposals: two statements however many there are.
func (s *Store) ProposalMissions(ctx context.Context, proposalID string) ([]*civic.Mission, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+missionCols+` FROM missions
		WHERE id IN (SELECT mission_id FROM mission_proposals WHERE proposal_id = ?) ORDER BY id`, proposalID)
	if err != nil {
		return nil, fmt.Errorf("proposal missions: %w", err)
	}
	out := []*civic.Mission{}
	byID := map[string]*civic.Mission{}
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			m, err := scanMission(rows)
			if err != nil {
				return fmt.Errorf("scan mission: %w", err)
			}
			m.ProposalIDs = []string{}
			byID[m.ID] = m
			out = append(out, m)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, err
	}
	links, err := s.query(ctx, s.db, `SELECT mission_id, proposal_id FROM mission_proposals
		WHERE mission_id IN (SELECT mission_id FROM mission_proposals WHERE proposal_id = ?) ORDER BY mission_id, proposal_id`, proposalID)
	if err != nil {
		return nil, fmt.Errorf("mission proposals: %w", err)
	}
	defer links.Close()
	for links.Next() {
		var mid, pid string
		if err := links.Scan(&mid, &pid); err != nil {
			return nil, fmt.Errorf("scan mission proposal: %w", err)
		}
		if m := byID[mid]; m != nil {
			m.ProposalIDs = append(m.ProposalIDs, pid)
		}
	}
	return out, links.Err()
}
