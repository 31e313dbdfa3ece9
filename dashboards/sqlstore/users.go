package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// CreateUser stores a new account; a taken e-mail address is ECONFLICT.
func (s *Store) CreateUser(ctx context.Context, u *civic.User) error {
	if u.ID == "" {
		u.ID = civic.NewID()
	}
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Created.IsZero() {
		u.Created = time.Now().UTC()
	}
	if !u.Role.Valid() {
		return civic.FieldError("role", "unknown role %q", u.Role)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO users (id, email, name, role, password_hash, created, email_verified, assurance, assurance_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, u.Name, string(u.Role), u.PasswordHash, ms(u.Created), nullMS(u.EmailVerified), int(u.Assurance), u.AssuranceBy)
		if isUnique(err) {
			return civic.Errorf(civic.ECONFLICT, "an account with this e-mail address exists")
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return s.audit(ctx, tx, u.ID, "user.create", u.ID, string(u.Role))
	})
}

const userCols = `id, email, name, role, password_hash, created, email_verified, assurance, assurance_by`

func scanUser(r interface{ Scan(...any) error }) (*civic.User, error) {
	var u civic.User
	var role string
	var created int64
	var verified sql.NullInt64
	var level int
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &created, &verified, &level, &u.AssuranceBy); err != nil {
		return nil, err
	}
	u.Role, u.Created, u.EmailVerified, u.Assurance = civic.Role(role), fromMS(created), fromNullMS(verified), civic.Assurance(level)
	return &u, nil
}

// UserByEmail finds an account by its (case-insensitive) e-mail address.
func (s *Store) UserByEmail(ctx context.Context, email string) (*civic.User, error) {
	u, err := scanUser(s.row(ctx, s.db, `SELECT `+userCols+` FROM users WHERE email = ?`, strings.ToLower(strings.TrimSpace(email))))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// UserByID finds an account by id.
func (s *Store) UserByID(ctx context.Context, id string) (*civic.User, error) {
	u, err := scanUser(s.row(ctx, s.db, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// SetUserRole changes a user's role (administrators only; the API checks).
func (s *Store) SetUserRole(ctx context.Context, actor, userID string, role civic.Role) error {
	if !role.Valid() {
		return civic.FieldError("role", "unknown role %q", role)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE users SET role = ? WHERE id = ?`, string(role), userID)
		if err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "user not found")
		}
		return s.audit(ctx, tx, actor, "user.role", userID, string(role))
	})
}

// DeleteUser erases an account (GDPR right to erasure): the user row, sessions,
// votes and reviews go; proposals and comments stay, detached from the author.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.row(ctx, tx, `SELECT COUNT(*) FROM missions WHERE agent_id = ?`, userID).Scan(&n); err != nil {
			return fmt.Errorf("count missions: %w", err)
		}
		if n > 0 {
			return civic.Errorf(civic.ECONFLICT, "the account is the agent of %d mission(s); reassign them first", n)
		}
		for _, q := range []string{
			`DELETE FROM votes WHERE user_id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM reviews WHERE expert_id = ?`,
			`UPDATE proposals SET author_id = NULL WHERE author_id = ?`,
			`UPDATE comments SET author_id = NULL WHERE author_id = ?`,
			`UPDATE audit SET actor = 'deleted' WHERE actor = ?`,
		} {
			if _, err := s.exec(ctx, tx, q, userID); err != nil {
				return fmt.Errorf("erase user data: %w", err)
			}
		}
		res, err := s.exec(ctx, tx, `DELETE FROM users WHERE id = ?`, userID)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "user not found")
		}
		return s.audit(ctx, tx, "deleted", "user.delete", "deleted", "")
	})
}

// ExportUser gathers everything stored about a user (GDPR right of access).
func (s *Store) ExportUser(ctx context.Context, userID string) (*civic.Export, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	ex := &civic.Export{User: *u, Generated: time.Now().UTC(), Votes: []string{}}
	if ex.Proposals, err = s.Proposals(ctx, civic.ProposalFilter{AuthorID: userID, Limit: 500}); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+commentCols+` FROM comments WHERE author_id = ? ORDER BY created`, userID)
	if err != nil {
		return nil, fmt.Errorf("export comments: %w", err)
	}
	if ex.Comments, err = scanComments(rows); err != nil {
		return nil, err
	}
	rows, err = s.query(ctx, s.db, `SELECT proposal_id FROM votes WHERE user_id = ? ORDER BY created`, userID)
	if err != nil {
		return nil, fmt.Errorf("export votes: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan vote: %w", err)
		}
		ex.Votes = append(ex.Votes, id)
	}
	rows.Close()
	rows, err = s.query(ctx, s.db, `SELECT `+reviewCols+` FROM reviews WHERE expert_id = ? ORDER BY created`, userID)
	if err != nil {
		return nil, fmt.Errorf("export reviews: %w", err)
	}
	if ex.Reviews, err = scanReviews(rows); err != nil {
		return nil, err
	}
	rows, err = s.query(ctx, s.db, `SELECT id, at, actor, action, target, detail FROM audit WHERE actor = ? OR target = ? ORDER BY at`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("export audit: %w", err)
	}
	if ex.Audit, err = scanAudit(rows); err != nil {
		return nil, err
	}
	if err := s.row(ctx, s.db, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, userID).Scan(&ex.Sessions); err != nil {
		return nil, fmt.Errorf("export sessions: %w", err)
	}
	return ex, nil
}

// CreateSession stores a session by the hash of its token.
func (s *Store) CreateSession(ctx context.Context, se *civic.Session) error {
	if se.ID == "" {
		se.ID = civic.NewID()
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO sessions (token_hash, user_id, kind, csrf, created, expires, id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		se.TokenHash, se.UserID, se.Kind, se.CSRF, ms(se.Created), ms(se.Expires), se.ID)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionUser returns the live session for a token hash and its user;
// unknown or expired sessions are EUNAUTHORIZED.
func (s *Store) SessionUser(ctx context.Context, tokenHash string, now time.Time) (*civic.Session, *civic.User, error) {
	var se civic.Session
	var created, expires, ucreated int64
	var lastUsed, verified sql.NullInt64
	var level int
	var u civic.User
	var role string
	err := s.row(ctx, s.db, `SELECT s.token_hash, s.user_id, s.kind, s.csrf, s.created, s.expires, s.id, s.last_used,
		u.id, u.email, u.name, u.role, u.created, u.email_verified, u.assurance, u.assurance_by
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, tokenHash).
		Scan(&se.TokenHash, &se.UserID, &se.Kind, &se.CSRF, &created, &expires, &se.ID, &lastUsed,
			&u.ID, &u.Email, &u.Name, &role, &ucreated, &verified, &level, &u.AssuranceBy)
	if err == sql.ErrNoRows || (err == nil && expires <= ms(now)) {
		return nil, nil, civic.Errorf(civic.EUNAUTHORIZED, "session unknown or expired")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	se.Created, se.Expires, se.LastUsed = fromMS(created), fromMS(expires), fromNullMS(lastUsed)
	u.Role, u.Created, u.EmailVerified, u.Assurance = civic.Role(role), fromMS(ucreated), fromNullMS(verified), civic.Assurance(level)
	return &se, &u, nil
}

// DeleteSession signs a session out.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
