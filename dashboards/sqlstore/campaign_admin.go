package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

var _ civic.CampaignAdmin = (*Store)(nil)

// SetCampaignThemes replaces campaign id's own themes in one transaction.
func (s *Store) SetCampaignThemes(ctx context.Context, id string, themeIDs []string, actor string) error {
	themeIDs = slices.Compact(slices.Sorted(slices.Values(themeIDs)))
	if len(themeIDs) > 50 {
		return civic.FieldError("theme_ids", "at most 50 themes")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.row(ctx, tx, `SELECT COUNT(*) FROM campaigns WHERE id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("check campaign: %w", err)
		}
		if n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "campaign not found")
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM campaign_themes WHERE campaign_id = ?`, id); err != nil {
			return fmt.Errorf("clear campaign themes: %w", err)
		}
		for _, t := range themeIDs {
			_, err := s.exec(ctx, tx, `INSERT INTO campaign_themes (campaign_id, theme_id) VALUES (?, ?)`, id, t)
			if isForeignKey(err) {
				return civic.FieldError("theme_ids", "unknown theme %q", t)
			}
			if err != nil {
				return fmt.Errorf("campaign theme: %w", err)
			}
		}
		return s.audit(ctx, tx, actor, "campaign.themes", id, strings.Join(themeIDs, ","))
	})
}

// CampaignThemes lists every campaign's own themes (one statement).
func (s *Store) CampaignThemes(ctx context.Context) (map[string][]string, error) {
	return s.campaignThemes(ctx, s.db, "")
}

func (s *Store) campaignThemes(ctx context.Context, q querier, campaignID string) (map[string][]string, error) {
	query, args := `SELECT campaign_id, theme_id FROM campaign_themes`, []any{}
	if campaignID != "" {
		query += ` WHERE campaign_id = ?`
		args = append(args, campaignID)
	}
	rows, err := s.query(ctx, q, query+` ORDER BY campaign_id, theme_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("campaign themes: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return nil, fmt.Errorf("scan campaign theme: %w", err)
		}
		out[c] = append(out[c], t)
	}
	return out, rows.Err()
}

// CloseCampaign ends the campaign's period at now, conditionally on it
// still running (a concurrent close finds nothing to close).
func (s *Store) CloseCampaign(ctx context.Context, id, actor string, now time.Time) (*civic.Campaign, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanCampaign(s.row(ctx, tx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "campaign")
		}
		if err := civic.CheckClose(c, now); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `UPDATE campaigns SET ends = ? WHERE id = ? AND ends = ?`, ms(now), id, ms(c.Ends))
		if err != nil {
			return fmt.Errorf("close campaign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ECONFLICT, "the campaign changed meanwhile; reload and retry")
		}
		return s.audit(ctx, tx, actor, "campaign.close", id, "ends="+now.UTC().Format(time.RFC3339))
	})
	if err != nil {
		return nil, err
	}
	return s.Campaign(ctx, id)
}
