package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// Themes lists the themes, seeded ones first.
func (s *Store) Themes(ctx context.Context) ([]*civic.Theme, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, name_fr, name_en FROM themes`)
	if err != nil {
		return nil, fmt.Errorf("themes: %w", err)
	}
	defer rows.Close()
	var out []*civic.Theme
	for rows.Next() {
		var t civic.Theme
		if err := rows.Scan(&t.ID, &t.NameFR, &t.NameEN); err != nil {
			return nil, fmt.Errorf("scan theme: %w", err)
		}
		out = append(out, &t)
	}
	order := map[string]int{}
	for i, t := range civic.SeedThemes {
		order[t.ID] = i - len(civic.SeedThemes)
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, oj := order[out[i].ID], order[out[j].ID]
		if oi != oj {
			return oi < oj
		}
		return out[i].ID < out[j].ID
	})
	return out, rows.Err()
}

// CreateTheme adds a theme (e.g. for a later "GREEN Deal" campaign).
func (s *Store) CreateTheme(ctx context.Context, t *civic.Theme) error {
	if !smartdeal.ValidID(t.ID) {
		return civic.FieldError("id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	t.NameFR, t.NameEN = strings.TrimSpace(t.NameFR), strings.TrimSpace(t.NameEN)
	if t.NameFR == "" || len(t.NameFR) > 200 || len(t.NameEN) > 200 {
		return civic.FieldError("name_fr", "required, at most 200 characters")
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO themes (id, name_fr, name_en) VALUES (?, ?, ?)`, t.ID, t.NameFR, t.NameEN)
	if isUnique(err) {
		return civic.Errorf(civic.ECONFLICT, "theme %s exists", t.ID)
	}
	if err != nil {
		return fmt.Errorf("insert theme: %w", err)
	}
	return nil
}

const campaignCols = `id, name, kind, starts, ends, budget_eur, shortlist_top_n, shortlist_min_votes, created`

func scanCampaign(r interface{ Scan(...any) error }) (*civic.Campaign, error) {
	var c civic.Campaign
	var kind string
	var starts, ends, created int64
	if err := r.Scan(&c.ID, &c.Name, &kind, &starts, &ends, &c.BudgetEUR, &c.ShortlistTopN, &c.ShortlistMinVotes, &created); err != nil {
		return nil, err
	}
	c.Kind, c.Starts, c.Ends, c.Created = civic.CampaignKind(kind), fromMS(starts), fromMS(ends), fromMS(created)
	return &c, nil
}

// Campaigns lists campaigns, newest first.
func (s *Store) Campaigns(ctx context.Context) ([]*civic.Campaign, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+campaignCols+` FROM campaigns ORDER BY starts DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	defer rows.Close()
	var out []*civic.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("scan campaign: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Campaign returns one campaign.
func (s *Store) Campaign(ctx context.Context, id string) (*civic.Campaign, error) {
	c, err := scanCampaign(s.row(ctx, s.db, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "campaign")
	}
	return c, nil
}

// CreateCampaign stores a campaign (budget defaults to 1,000,000 €).
func (s *Store) CreateCampaign(ctx context.Context, c *civic.Campaign) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = civic.NewID()
	} else if !smartdeal.ValidID(c.ID) {
		return civic.FieldError("id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	c.Created = time.Now().UTC()
	_, err := s.exec(ctx, s.db, `INSERT INTO campaigns (`+campaignCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, string(c.Kind), ms(c.Starts), ms(c.Ends), c.BudgetEUR, c.ShortlistTopN, c.ShortlistMinVotes, ms(c.Created))
	if isUnique(err) {
		return civic.Errorf(civic.ECONFLICT, "campaign %s exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("insert campaign: %w", err)
	}
	return nil
}

const proposalCols = `p.id, p.campaign_id, p.theme_id, p.author_id, p.title, p.body, p.lat, p.lon,
	p.estimated_cost_eur, p.status, p.rejection_reason, p.created, p.updated,
	(SELECT COUNT(*) FROM votes v WHERE v.proposal_id = p.id) + p.erased_votes, p.moderation_reason, p.moderation_note`

func scanProposal(r interface{ Scan(...any) error }) (*civic.Proposal, error) {
	var p civic.Proposal
	var author sql.NullString
	var lat, lon sql.NullFloat64
	var status string
	var created, updated int64
	var m civic.Moderation
	if err := r.Scan(&p.ID, &p.CampaignID, &p.ThemeID, &author, &p.Title, &p.Body, &lat, &lon,
		&p.EstimatedCostEUR, &status, &p.RejectionReason, &created, &updated, &p.Votes, &m.Reason, &m.Note); err != nil {
		return nil, err
	}
	p.AuthorID, p.Status, p.Created, p.Updated = author.String, civic.Status(status), fromMS(created), fromMS(updated)
	if m.Reason != "" {
		p.Moderation = &m
	}
	if lat.Valid && lon.Valid {
		p.Location = &civic.Point{Lat: lat.Float64, Lon: lon.Float64}
	}
	return &p, nil
}

// CreateProposal stores a new proposal in status submitted, created at
// p.Created (now when zero).
func (s *Store) CreateProposal(ctx context.Context, p *civic.Proposal) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.ID = civic.NewID()
	p.Status = civic.StatusSubmitted
	if p.Created.IsZero() { // the caller's clock, if it gave one
		p.Created = time.Now()
	}
	p.Created = p.Created.UTC()
	p.Updated = p.Created
	var lat, lon sql.NullFloat64
	if p.Location != nil {
		lat = sql.NullFloat64{Float64: p.Location.Lat, Valid: true}
		lon = sql.NullFloat64{Float64: p.Location.Lon, Valid: true}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.row(ctx, tx, `SELECT COUNT(*) FROM campaigns WHERE id = ?`, p.CampaignID).Scan(&n); err != nil {
			return fmt.Errorf("check campaign: %w", err)
		}
		if n == 0 {
			return civic.FieldError("campaign_id", "unknown campaign")
		}
		if err := s.row(ctx, tx, `SELECT COUNT(*) FROM themes WHERE id = ?`, p.ThemeID).Scan(&n); err != nil {
			return fmt.Errorf("check theme: %w", err)
		}
		if n == 0 {
			return civic.FieldError("theme_id", "unknown theme")
		}
		own, ownErr := s.campaignThemes(ctx, tx, p.CampaignID) // a campaign with its own themes takes only those
		if ownErr != nil {
			return ownErr
		}
		if err := civic.CheckCampaignTheme(own[p.CampaignID], p.ThemeID); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `INSERT INTO proposals (id, campaign_id, theme_id, author_id, title, body, lat, lon,
			estimated_cost_eur, status, rejection_reason, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
			p.ID, p.CampaignID, p.ThemeID, p.AuthorID, p.Title, p.Body, lat, lon, p.EstimatedCostEUR,
			string(p.Status), ms(p.Created), ms(p.Updated))
		if err != nil {
			return fmt.Errorf("insert proposal: %w", err)
		}
		_, err = s.exec(ctx, tx, `INSERT INTO proposal_history (proposal_id, seq, from_status, to_status, by_user, reason, at)
			VALUES (?, 1, '', ?, ?, '', ?)`, p.ID, string(p.Status), p.AuthorID, ms(p.Created))
		if err != nil {
			return fmt.Errorf("insert history: %w", err)
		}
		return nil
	})
}

// Proposal returns one proposal with its vote count.
func (s *Store) Proposal(ctx context.Context, id string) (*civic.Proposal, error) {
	p, err := scanProposal(s.row(ctx, s.db, `SELECT `+proposalCols+` FROM proposals p WHERE p.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "proposal")
	}
	return p, nil
}

// Proposals lists proposals matching f, newest first.
func (s *Store) Proposals(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error) {
	var where []string
	var args []any
	if f.CampaignID != "" {
		where, args = append(where, "p.campaign_id = ?"), append(args, f.CampaignID)
	}
	if f.ThemeID != "" {
		where, args = append(where, "p.theme_id = ?"), append(args, f.ThemeID)
	}
	if f.AuthorID != "" {
		where, args = append(where, "p.author_id = ?"), append(args, f.AuthorID)
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "p.status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Query != "" { // plain text: LIKE's wildcards in it are escaped
		pat := likeEscape(f.Query)
		where, args = append(where, `(LOWER(p.title) LIKE ? ESCAPE '\' OR LOWER(p.body) LIKE ? ESCAPE '\')`), append(args, pat, pat)
	}
	q := `SELECT ` + proposalCols + ` FROM proposals p`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	if f.Sort == civic.SortSupports {
		q += " ORDER BY (SELECT COUNT(*) FROM votes v WHERE v.proposal_id = p.id) + p.erased_votes DESC, p.created DESC, p.id LIMIT ? OFFSET ?"
	} else {
		q += " ORDER BY p.created DESC, p.id LIMIT ? OFFSET ?"
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("proposals: %w", err)
	}
	defer rows.Close()
	out := []*civic.Proposal{}
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("scan proposal: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// History lists a proposal's status changes, oldest first.
func (s *Store) History(ctx context.Context, proposalID string) ([]*civic.StatusChange, error) {
	rows, err := s.query(ctx, s.db, `SELECT proposal_id, from_status, to_status, by_user, reason, at, reason_code
		FROM proposal_history WHERE proposal_id = ? ORDER BY seq`, proposalID)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	out := []*civic.StatusChange{}
	for rows.Next() {
		var c civic.StatusChange
		var from, to string
		var at int64
		if err := rows.Scan(&c.ProposalID, &from, &to, &c.By, &c.Reason, &at, &c.ReasonCode); err != nil {
			return nil, fmt.Errorf("scan history: %w", err)
		}
		c.From, c.To, c.At = civic.Status(from), civic.Status(to), fromMS(at)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// SetStatus moves a proposal one step in the workflow for actor at now. The
// rules are civic's (CheckReason, CheckTransition, and CheckSelection when
// the step EntersBudget); the store loads what they need and stores what
// Proposal.Apply decided. The change is conditional on the status read
// (optimistic check), so concurrent changes cannot both apply. A selection
// sums the campaign's committed costs in the same transaction; on
// PostgreSQL the campaign row is locked first (FOR UPDATE) so that two
// concurrent selections cannot together exceed the budget (SQLite
// transactions are already exclusive writers).
func (s *Store) SetStatus(ctx context.Context, proposalID string, to civic.Status, actor *civic.User, reason string, now time.Time) (*civic.Proposal, error) {
	reason, err := civic.CheckReason(to, reason)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		p, err := scanProposal(s.row(ctx, tx, `SELECT `+proposalCols+` FROM proposals p WHERE p.id = ?`, proposalID))
		if err != nil {
			return notFound(err, "proposal")
		}
		if err := civic.CheckTransition(p.Status, to, actor.Role); err != nil {
			return err
		}
		if civic.EntersBudget(p.Status, to) {
			if err := s.checkBudget(ctx, tx, p); err != nil {
				return err
			}
		}
		return s.applyChange(ctx, tx, p, p.Apply(to, actor.ID, reason, nil, now.UTC()))
	})
	if err != nil {
		return nil, err
	}
	return s.Proposal(ctx, proposalID)
}

// RefuseProposal is the moderation refusal at now: the proposal goes to
// refused (from the statuses civic.Transitions allows, for the roles it
// names), hidden from everyone but its author and the moderators, with m
// stored on the proposal and in its history, and the audit entry naming the
// reason.
func (s *Store) RefuseProposal(ctx context.Context, proposalID string, actor *civic.User, m civic.Moderation, now time.Time) (*civic.Proposal, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := scanProposal(s.row(ctx, tx, `SELECT `+proposalCols+` FROM proposals p WHERE p.id = ?`, proposalID))
		if err != nil {
			return notFound(err, "proposal")
		}
		if err := civic.CheckTransition(p.Status, civic.StatusRefused, actor.Role); err != nil {
			return err
		}
		return s.applyChange(ctx, tx, p, p.Apply(civic.StatusRefused, actor.ID, "", &m, now.UTC()))
	})
	if err != nil {
		return nil, err
	}
	return s.Proposal(ctx, proposalID)
}

// CommittedEUR is what a campaign has committed: the estimated costs of its
// proposals in civic.SpendingStatuses (the sum the budget check uses).
func (s *Store) CommittedEUR(ctx context.Context, campaignID string) (int64, error) {
	return s.committed(ctx, s.db, campaignID)
}

// committed sums in SQL (one aggregate, however many proposals) the costs of
// a campaign's proposals whose status Spends; the statuses come from
// civic.SpendingStatuses, the rule's one list.
func (s *Store) committed(ctx context.Context, q querier, campaignID string) (int64, error) {
	in, args := statusIn("status", civic.SpendingStatuses())
	var spent int64
	if err := s.row(ctx, q, `SELECT COALESCE(SUM(estimated_cost_eur), 0) FROM proposals
		WHERE campaign_id = ? AND `+in, append([]any{campaignID}, args...)...).Scan(&spent); err != nil {
		return 0, fmt.Errorf("campaign spending: %w", err)
	}
	return spent, nil
}

// statusIn is the SQL condition "col IN (…)" over statuses and its
// arguments: the lists are civic's (SpendingStatuses, ErasedStatuses…),
// never written out in SQL. An empty list matches nothing.
func statusIn(col string, statuses []civic.Status) (string, []any) {
	if len(statuses) == 0 {
		return "1 = 0", nil
	}
	ph := make([]string, len(statuses))
	args := make([]any, len(statuses))
	for i, st := range statuses {
		ph[i], args[i] = "?", string(st)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")", args
}

// commentStatusIn is statusIn for comment states.
func commentStatusIn(col string, statuses []civic.CommentStatus) (string, []any) {
	ss := make([]civic.Status, len(statuses))
	for i, st := range statuses {
		ss[i] = civic.Status(st)
	}
	return statusIn(col, ss)
}

// checkBudget loads, inside tx, what civic.CheckSelection needs: the
// campaign (its row locked FOR UPDATE on PostgreSQL until tx ends, so a
// concurrent selection waits and then sees this one's cost) and what it has
// committed.
func (s *Store) checkBudget(ctx context.Context, tx *sql.Tx, p *civic.Proposal) error {
	lock := ""
	if s.postgres {
		lock = " FOR UPDATE"
	}
	c, err := scanCampaign(s.row(ctx, tx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`+lock, p.CampaignID))
	if err != nil {
		return fmt.Errorf("campaign budget: %w", err)
	}
	spent, err := s.committed(ctx, tx, p.CampaignID)
	if err != nil {
		return err
	}
	return civic.CheckSelection(c, spent, p.EstimatedCostEUR)
}

// applyChange stores the step ch that Proposal.Apply made of p: the
// conditional update (on the status ch left), the history row and the
// audit entry.
func (s *Store) applyChange(ctx context.Context, tx *sql.Tx, p *civic.Proposal, ch civic.StatusChange) error {
	var mod civic.Moderation
	if p.Moderation != nil {
		mod = *p.Moderation
	}
	detail := string(ch.From) + "->" + string(ch.To)
	if ch.ReasonCode != "" {
		detail += " reason_code=" + string(ch.ReasonCode)
		if ch.Reason != "" {
			detail += " note=" + ch.Reason
		}
	}
	res, err := s.exec(ctx, tx, `UPDATE proposals SET status = ?, rejection_reason = ?, moderation_reason = ?, moderation_note = ?, updated = ?
		WHERE id = ? AND status = ?`, string(p.Status), p.RejectionReason, string(mod.Reason), mod.Note, ms(p.Updated), p.ID, string(ch.From))
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return civic.Errorf(civic.ECONFLICT, "the proposal changed meanwhile; reload and retry")
	}
	_, err = s.exec(ctx, tx, `INSERT INTO proposal_history (proposal_id, seq, from_status, to_status, by_user, reason, at, reason_code)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM proposal_history WHERE proposal_id = ?), ?, ?, ?, ?, ?, ?)`,
		p.ID, p.ID, string(ch.From), string(ch.To), ch.By, ch.Reason, ms(ch.At), string(ch.ReasonCode))
	if err != nil {
		return fmt.Errorf("insert history: %w", err)
	}
	if err := s.audit(ctx, tx, ch.By, "proposal.status", p.ID, detail); err != nil {
		return err
	}
	// A moderation step (leaving submitted, or refused) goes to the
	// moderation history, closes the proposal's flags and mails a refusal.
	if ch.From == civic.StatusSubmitted || ch.To == civic.StatusRefused {
		d := civic.DecisionFor(ch.To == civic.StatusRefused, ch.From == civic.StatusSubmitted)
		if _, err := s.decided(ctx, tx, civic.TargetProposal, p.ID, p.ID, p.AuthorID, d, mod, ch.By, ch.At); err != nil {
			return err
		}
	}
	return nil
}

// Shortlist applies the campaign's rule (civic.Shortlist: top N per theme
// and/or a vote threshold) to its published proposals for actor at now,
// and returns the ids shortlisted, in one transaction: each step is
// conditional on the proposal being still published.
func (s *Store) Shortlist(ctx context.Context, campaignID string, actor *civic.User, now time.Time) ([]string, error) {
	c, err := s.Campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if err := c.CheckShortlistRule(); err != nil {
		return nil, err
	}
	if err := civic.CheckTransition(civic.StatusPublished, civic.StatusShortlisted, actor.Role); err != nil {
		return nil, err
	}
	picked := []string{}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		// Only the candidates are loaded (the rule ignores any other status).
		rows, err := s.query(ctx, tx, `SELECT `+proposalCols+` FROM proposals p WHERE p.campaign_id = ? AND p.status = ?`,
			c.ID, string(civic.StatusPublished))
		if err != nil {
			return fmt.Errorf("published proposals: %w", err)
		}
		var ps []*civic.Proposal
		for rows.Next() {
			p, err := scanProposal(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("scan proposal: %w", err)
			}
			ps = append(ps, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("published proposals: %w", err)
		}
		for _, p := range civic.Shortlist(c, ps) {
			if err := s.applyChange(ctx, tx, p, p.Apply(civic.StatusShortlisted, actor.ID, "shortlist rule", nil, now.UTC())); err != nil {
				return err
			}
			picked = append(picked, p.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return picked, nil
}
