package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Account security (migration 00005): single-use links kept by hash,
// verification and assurance levels, password and address changes that end
// sessions, the list of a user's sessions, and the mail outbox.

var (
	_ civic.AccountService = (*Store)(nil)
	_ civic.OutboxService  = (*Store)(nil)
)

func tokenError(reason, msg string) error {
	return &civic.Error{Code: civic.ETOKEN, Message: msg, Extra: map[string]any{"reason": reason}}
}

// CreateToken stores a single-use link by the hash of its token.
func (s *Store) CreateToken(ctx context.Context, t *civic.AccountToken) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO account_tokens (token_hash, user_id, purpose, email, created, expires) VALUES (?, ?, ?, ?, ?, ?)`,
		t.TokenHash, t.UserID, string(t.Purpose), strings.ToLower(t.Email), ms(t.Created), ms(t.Expires))
	if err != nil {
		return fmt.Errorf("insert account token: %w", err)
	}
	return nil
}

const tokenCols = `token_hash, user_id, purpose, email, created, expires, used`

func scanToken(r interface{ Scan(...any) error }) (*civic.AccountToken, error) {
	var t civic.AccountToken
	var purpose string
	var created, expires int64
	var used sql.NullInt64
	if err := r.Scan(&t.TokenHash, &t.UserID, &purpose, &t.Email, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.Purpose, t.Created, t.Expires, t.Used = civic.TokenPurpose(purpose), fromMS(created), fromMS(expires), fromNullMS(used)
	return &t, nil
}

// checkToken says why a link cannot be used at now (nil if it can).
func checkToken(t *civic.AccountToken, now time.Time) error {
	switch {
	case t.Used != nil:
		return tokenError(civic.TokenUsed, "this link was already used")
	case !now.Before(t.Expires):
		return tokenError(civic.TokenExpired, "this link has expired")
	}
	return nil
}

// Token returns a usable link without using it.
func (s *Store) Token(ctx context.Context, tokenHash string, now time.Time) (*civic.AccountToken, error) {
	t, err := scanToken(s.row(ctx, s.db, `SELECT `+tokenCols+` FROM account_tokens WHERE token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokenError(civic.TokenUnknown, "unknown link")
	}
	if err != nil {
		return nil, fmt.Errorf("account token: %w", err)
	}
	if err := checkToken(t, now); err != nil {
		return nil, err
	}
	return t, nil
}

// useToken marks a link used inside tx, once: the conditional UPDATE lets
// only one of two concurrent uses through. It returns the link, or ETOKEN
// with the reason it cannot be used (also for a link of another purpose).
func (s *Store) useToken(ctx context.Context, tx *sql.Tx, tokenHash string, now time.Time, purposes ...civic.TokenPurpose) (*civic.AccountToken, error) {
	t, err := scanToken(s.row(ctx, tx, `SELECT `+tokenCols+` FROM account_tokens WHERE token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokenError(civic.TokenUnknown, "unknown link")
	}
	if err != nil {
		return nil, fmt.Errorf("account token: %w", err)
	}
	ok := false
	for _, p := range purposes {
		ok = ok || t.Purpose == p
	}
	if !ok {
		return nil, tokenError(civic.TokenUnknown, "unknown link")
	}
	if err := checkToken(t, now); err != nil {
		return nil, err
	}
	res, err := s.exec(ctx, tx, `UPDATE account_tokens SET used = ? WHERE token_hash = ? AND used IS NULL AND expires > ?`, ms(now), tokenHash, ms(now))
	if err != nil {
		return nil, fmt.Errorf("use account token: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, tokenError(civic.TokenUsed, "this link was already used")
	}
	at := now
	t.Used = &at
	return t, nil
}

// retireTokens marks the user's other unused links of a purpose used, so
// that an older link cannot undo or repeat what a newer one did.
func (s *Store) retireTokens(ctx context.Context, tx *sql.Tx, userID string, purpose civic.TokenPurpose, now time.Time) error {
	if _, err := s.exec(ctx, tx, `UPDATE account_tokens SET used = ? WHERE user_id = ? AND purpose = ? AND used IS NULL`,
		ms(now), userID, string(purpose)); err != nil {
		return fmt.Errorf("retire %s links: %w", purpose, err)
	}
	return nil
}

func (s *Store) userTx(ctx context.Context, tx *sql.Tx, id string) (*civic.User, error) {
	u, err := scanUser(s.row(ctx, tx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// ConfirmEmail uses a verification or address-change link.
func (s *Store) ConfirmEmail(ctx context.Context, tokenHash string, now time.Time, keepSession string) (*civic.User, *civic.AccountToken, error) {
	var u *civic.User
	var t *civic.AccountToken
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = s.useToken(ctx, tx, tokenHash, now, civic.TokenVerify, civic.TokenEmailChange); err != nil {
			return err
		}
		if u, err = s.userTx(ctx, tx, t.UserID); err != nil {
			return err
		}
		switch t.Purpose {
		case civic.TokenVerify:
			if u.Email != t.Email {
				return tokenError(civic.TokenStale, "the account's address changed since this link was sent")
			}
			if u.EmailVerified == nil {
				if _, err := s.exec(ctx, tx, `UPDATE users SET email_verified = ? WHERE id = ?`, ms(now), u.ID); err != nil {
					return fmt.Errorf("verify address: %w", err)
				}
				at := now
				u.EmailVerified = &at
			}
			return s.audit(ctx, tx, u.ID, "account.email_verified", u.ID, "")
		default: // civic.TokenEmailChange
			_, err := s.exec(ctx, tx, `UPDATE users SET email = ?, email_verified = ? WHERE id = ?`, t.Email, ms(now), u.ID)
			if isUnique(err) {
				return civic.Errorf(civic.ECONFLICT, "another account uses this address now")
			}
			if err != nil {
				return fmt.Errorf("change address: %w", err)
			}
			u.Email = t.Email
			at := now
			u.EmailVerified = &at
			if _, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, u.ID, keepSession); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
			// Links sent to the old address no longer apply.
			for _, p := range []civic.TokenPurpose{civic.TokenVerify, civic.TokenEmailChange, civic.TokenReset} {
				if err := s.retireTokens(ctx, tx, u.ID, p, now); err != nil {
					return err
				}
			}
			return s.audit(ctx, tx, u.ID, "account.email_changed", u.ID, "")
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return u, t, nil
}

// ResetPassword uses a reset link: new password, every session ended. The
// link proves control of the address, so the address counts as verified.
func (s *Store) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (*civic.User, error) {
	var u *civic.User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t, err := s.useToken(ctx, tx, tokenHash, now, civic.TokenReset)
		if err != nil {
			return err
		}
		if u, err = s.userTx(ctx, tx, t.UserID); err != nil {
			return err
		}
		if u.Email != t.Email {
			return tokenError(civic.TokenStale, "the account's address changed since this link was sent")
		}
		if _, err := s.exec(ctx, tx, `UPDATE users SET password_hash = ?, email_verified = COALESCE(email_verified, ?) WHERE id = ?`,
			passwordHash, ms(now), u.ID); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if u.EmailVerified == nil {
			at := now
			u.EmailVerified = &at
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := s.retireTokens(ctx, tx, u.ID, civic.TokenReset, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, u.ID, "account.password_reset", u.ID, "")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ChangePassword replaces the password and ends the other sessions.
func (s *Store) ChangePassword(ctx context.Context, userID, passwordHash, keepSession string) (int, error) {
	var ended int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "user not found")
		}
		if res, err = s.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keepSession); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		ended, _ = res.RowsAffected()
		if err := s.retireTokens(ctx, tx, userID, civic.TokenReset, time.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, userID, "account.password_changed", userID, fmt.Sprintf("%d other sessions ended", ended))
	})
	return int(ended), err
}

// MarkEmailVerified records the account's current address as verified at
// at (operators' tooling and tests; the platform's own path is a link).
func (s *Store) MarkEmailVerified(ctx context.Context, userID string, at time.Time) error {
	res, err := s.exec(ctx, s.db, `UPDATE users SET email_verified = ? WHERE id = ?`, ms(at), userID)
	if err != nil {
		return fmt.Errorf("mark verified: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return civic.Errorf(civic.ENOTFOUND, "user not found")
	}
	return nil
}

// SetAssurance records the outcome of a stronger identity check: level and
// method (0 and "" withdraw it), audited with the actor.
func (s *Store) SetAssurance(ctx context.Context, actor, userID string, level civic.Assurance, method string) error {
	if level < civic.AssuranceNone || level > civic.AssuranceMax {
		return civic.FieldError("level", "want between 0 and %d", civic.AssuranceMax)
	}
	method = strings.TrimSpace(method)
	if level > civic.AssuranceEmail && (method == "" || len(method) > 64) {
		return civic.FieldError("method", "name the check (1 to 64 characters)")
	}
	if level <= civic.AssuranceEmail {
		level, method = civic.AssuranceNone, ""
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE users SET assurance = ?, assurance_by = ? WHERE id = ?`, int(level), method, userID)
		if err != nil {
			return fmt.Errorf("set assurance: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "user not found")
		}
		return s.audit(ctx, tx, actor, "account.assurance", userID, fmt.Sprintf("%d %s", level, method))
	})
}

// UserSessions lists the user's live sessions, newest first.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]*civic.Session, error) {
	rows, err := s.query(ctx, s.db, `SELECT token_hash, user_id, kind, csrf, created, expires, id, last_used FROM sessions
		WHERE user_id = ? AND expires > ? ORDER BY created DESC`, userID, ms(now))
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	var out []*civic.Session
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

func scanSession(r interface{ Scan(...any) error }) (*civic.Session, error) {
	var se civic.Session
	var created, expires int64
	var last sql.NullInt64
	if err := r.Scan(&se.TokenHash, &se.UserID, &se.Kind, &se.CSRF, &created, &expires, &se.ID, &last); err != nil {
		return nil, fmt.Errorf("scan session: %w", err)
	}
	se.Created, se.Expires, se.LastUsed = fromMS(created), fromMS(expires), fromNullMS(last)
	return &se, nil
}

// DeleteUserSession ends one of the user's own sessions.
func (s *Store) DeleteUserSession(ctx context.Context, userID, id string) (*civic.Session, error) {
	var se *civic.Session
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		se, err = scanSession(s.row(ctx, tx, `SELECT token_hash, user_id, kind, csrf, created, expires, id, last_used FROM sessions
			WHERE user_id = ? AND id = ?`, userID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return civic.Errorf(civic.ENOTFOUND, "no such session")
		}
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE token_hash = ?`, se.TokenHash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return s.audit(ctx, tx, userID, "auth.session_revoked", userID, se.Kind)
	})
	if err != nil {
		return nil, err
	}
	return se, nil
}

// DeleteUserSessions ends every session of the user but except.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, except)
		if err != nil {
			return fmt.Errorf("delete sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return s.audit(ctx, tx, userID, "auth.signout_everywhere", userID, fmt.Sprintf("%d sessions", n))
	})
	return int(n), err
}

// TouchSession records a request made with a session.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	if _, err := s.exec(ctx, s.db, `UPDATE sessions SET last_used = ? WHERE token_hash = ?`, ms(at), tokenHash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// SweepAccounts deletes links that expired before olderThan and mails that
// failed for good before it (they are kept that long for the operator).
func (s *Store) SweepAccounts(ctx context.Context, olderThan time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM account_tokens WHERE expires < ?`,
		`DELETE FROM mail_outbox WHERE failed IS NOT NULL AND failed < ?`,
	} {
		res, err := s.exec(ctx, s.db, q, ms(olderThan))
		if err != nil {
			return total, fmt.Errorf("sweep accounts: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// EnqueueMail queues a mail, due now.
func (s *Store) EnqueueMail(ctx context.Context, m *civic.OutboxMail) error {
	if m.ID == "" {
		m.ID = civic.NewID()
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if m.Next.IsZero() {
		m.Next = m.Created
	}
	var user any
	if m.UserID != "" {
		user = m.UserID
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO mail_outbox (id, kind, user_id, recipient, detail, created, next_attempt, proposal_id, proposal_status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, string(m.Kind), user, m.Recipient, m.Detail, ms(m.Created), ms(m.Next), m.ProposalID, string(m.Status))
	if err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// ClaimMail takes the due mails: each is claimed by a conditional UPDATE on
// the next_attempt it was read with, so two workers never both take one.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*civic.OutboxMail, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, kind, user_id, recipient, detail, created, attempts, next_attempt, last_error, proposal_id, proposal_status
		FROM mail_outbox WHERE failed IS NULL AND next_attempt <= ? ORDER BY next_attempt LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due mail: %w", err)
	}
	var due []*civic.OutboxMail
	var nexts []int64
	for rows.Next() {
		var m civic.OutboxMail
		var kind, status string
		var user sql.NullString
		var created, next int64
		if err := rows.Scan(&m.ID, &kind, &user, &m.Recipient, &m.Detail, &created, &m.Attempts, &next, &m.LastError, &m.ProposalID, &status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan mail: %w", err)
		}
		m.Kind, m.UserID, m.Created, m.Status = civic.MailKind(kind), user.String, fromMS(created), civic.Status(status)
		due = append(due, &m)
		nexts = append(nexts, next)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due mail: %w", err)
	}
	until := now.Add(lease)
	var claimed []*civic.OutboxMail
	for i, m := range due {
		res, err := s.exec(ctx, s.db, `UPDATE mail_outbox SET next_attempt = ?, attempts = attempts + 1 WHERE id = ? AND next_attempt = ? AND failed IS NULL`,
			ms(until), m.ID, nexts[i])
		if err != nil {
			return claimed, fmt.Errorf("claim mail: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			m.Attempts++
			m.Next = until
			claimed = append(claimed, m)
		}
	}
	return claimed, nil
}

// FinishMail records the outcome of one attempt.
func (s *Store) FinishMail(ctx context.Context, id string, sendErr error, next time.Time, giveUp bool) error {
	var err error
	switch {
	case sendErr == nil:
		_, err = s.exec(ctx, s.db, `DELETE FROM mail_outbox WHERE id = ?`, id)
	case giveUp:
		_, err = s.exec(ctx, s.db, `UPDATE mail_outbox SET failed = ?, last_error = ? WHERE id = ?`, ms(time.Now()), truncate(sendErr.Error(), 500), id)
	default:
		_, err = s.exec(ctx, s.db, `UPDATE mail_outbox SET next_attempt = ?, last_error = ? WHERE id = ?`, ms(next), truncate(sendErr.Error(), 500), id)
	}
	if err != nil {
		return fmt.Errorf("finish mail: %w", err)
	}
	return nil
}

// PendingMail counts the mails waiting to be sent.
func (s *Store) PendingMail(ctx context.Context) (int, error) {
	var n int
	if err := s.row(ctx, s.db, `SELECT COUNT(*) FROM mail_outbox WHERE failed IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending mail: %w", err)
	}
	return n, nil
}
