package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

var _ civic.PeopleService = (*Store)(nil)

// personCols are userCols (prefixed u.) with the block's reason and the
// activity counts, one statement for a whole page of people.
const personCols = `u.id, u.email, u.name, u.role, u.password_hash, u.created, u.email_verified, u.assurance, u.assurance_by, u.blocked,
	u.blocked_reason,
	(SELECT COUNT(*) FROM proposals p WHERE p.author_id = u.id),
	(SELECT COUNT(*) FROM comments c WHERE c.author_id = u.id),
	(SELECT COUNT(*) FROM content_flags f WHERE f.user_id = u.id)`

func scanPerson(r interface{ Scan(...any) error }) (*civic.Person, error) {
	var p civic.Person
	var u *civic.User
	var reason string
	var np, nc, nf int
	u, err := scanUser(scanTail{r, []any{&reason, &np, &nc, &nf}})
	if err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	p.User, p.BlockedReason, p.Proposals, p.Comments, p.Flags = *u, reason, np, nc, nf
	return &p, nil
}

// scanTail lets scanUser read a row that has more columns after userCols.
type scanTail struct {
	r    interface{ Scan(...any) error }
	tail []any
}

func (s scanTail) Scan(dest ...any) error { return s.r.Scan(append(dest, s.tail...)...) }

// likeEscape makes v a LIKE pattern matching v anywhere, its own % and _
// taken literally.
func likeEscape(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(v)) + "%"
}

// People lists accounts matching f (name or address containing f.Query,
// role, blocked or not), newest first, with their activity counts.
func (s *Store) People(ctx context.Context, f civic.UserFilter) ([]*civic.Person, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	q := `SELECT ` + personCols + ` FROM users u WHERE 1 = 1`
	var args []any
	if f.Query != "" {
		q += ` AND (LOWER(u.name) LIKE ? ESCAPE '\' OR LOWER(u.email) LIKE ? ESCAPE '\')`
		pat := likeEscape(f.Query)
		args = append(args, pat, pat)
	}
	if f.Role != "" {
		q += ` AND u.role = ?`
		args = append(args, string(f.Role))
	}
	if f.Blocked != nil {
		if *f.Blocked {
			q += ` AND u.blocked IS NOT NULL`
		} else {
			q += ` AND u.blocked IS NULL`
		}
	}
	q += ` ORDER BY u.created DESC, u.id LIMIT ? OFFSET ?`
	args = append(args, f.Limit, f.Offset)
	rows, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	defer rows.Close()
	out := []*civic.Person{}
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("scan person: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Person is one account with its activity counts.
func (s *Store) Person(ctx context.Context, id string) (*civic.Person, error) {
	p, err := scanPerson(s.row(ctx, s.db, `SELECT `+personCols+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return p, nil
}

// BlockUser blocks or unblocks userID for actor at now, in one
// transaction: the last administrator not blocked stays (keepAnAdmin), a
// block deletes every session of the account, and both are audited.
func (s *Store) BlockUser(ctx context.Context, actor *civic.User, userID string, block bool, reason string, now time.Time) error {
	if block {
		var err error
		if reason, err = civic.CheckBlock(actor, userID, reason); err != nil {
			return err
		}
	} else {
		reason = ""
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if block {
			if err := s.keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		at := sql.NullInt64{Int64: ms(now), Valid: block}
		res, err := s.exec(ctx, tx, `UPDATE users SET blocked = ?, blocked_reason = ? WHERE id = ?`, at, reason, userID)
		if err != nil {
			return fmt.Errorf("block user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "user not found")
		}
		action, detail := "user.unblock", ""
		if block {
			res, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, userID)
			if err != nil {
				return fmt.Errorf("revoke sessions: %w", err)
			}
			n, _ := res.RowsAffected()
			action, detail = "user.block", fmt.Sprintf("sessions_revoked=%d reason=%s", n, reason)
		}
		return s.audit(ctx, tx, actor.ID, action, userID, detail)
	})
}

// SearchAudit lists the entries matching f, newest first.
func (s *Store) SearchAudit(ctx context.Context, f civic.AuditFilter) ([]*civic.AuditEntry, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	q := `SELECT id, at, actor, action, target, detail FROM audit WHERE 1 = 1`
	var args []any
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok && prefix != "" {
		q += ` AND action LIKE ? ESCAPE '\'`
		args = append(args, strings.TrimSuffix(likeEscape(f.Action), "%")[1:]+"%")
	} else if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, ms(f.To))
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("search audit: %w", err)
	}
	out, err := scanAudit(rows)
	if out == nil {
		out = []*civic.AuditEntry{}
	}
	return out, err
}
