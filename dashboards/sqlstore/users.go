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

const userCols = `id, email, name, role, password_hash, created, email_verified, assurance, assurance_by, blocked`

func scanUser(r interface{ Scan(...any) error }) (*civic.User, error) {
	var u civic.User
	var role string
	var created int64
	var verified, blocked sql.NullInt64
	var level int
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &created, &verified, &level, &u.AssuranceBy, &blocked); err != nil {
		return nil, err
	}
	u.Role, u.Created, u.EmailVerified, u.Assurance = civic.Role(role), fromMS(created), fromNullMS(verified), civic.Assurance(level)
	u.Blocked = fromNullMS(blocked)
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
// Demoting the last administrator is refused (civic.LastAdminError), in the
// same transaction as the change, so concurrent demotions cannot leave none.
func (s *Store) SetUserRole(ctx context.Context, actor, userID string, role civic.Role) error {
	if !role.Valid() {
		return civic.FieldError("role", "unknown role %q", role)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if role != civic.RoleAdmin {
			if err := s.keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
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

// keepAnAdmin refuses, inside tx, a change that would take the role of
// administrator from userID when userID is the only administrator. On
// PostgreSQL the administrators' rows are locked (FOR UPDATE) until tx ends:
// a concurrent demotion waits, then no longer sees the account this one
// demoted, and is refused. SQLite transactions are already one writer at a
// time (BEGIN IMMEDIATE). civic.CheckAdminsLeft decides on what it read.
func (s *Store) keepAnAdmin(ctx context.Context, tx *sql.Tx, userID string) error {
	lock := ""
	if s.postgres {
		lock = " FOR UPDATE"
	}
	// A blocked administrator administers nothing: only the others count.
	rows, err := s.query(ctx, tx, `SELECT id FROM users WHERE role = ? AND blocked IS NULL`+lock, string(civic.RoleAdmin))
	if err != nil {
		return fmt.Errorf("administrators: %w", err)
	}
	defer rows.Close()
	target, others := false, 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("scan administrator: %w", err)
		}
		if id == userID {
			target = true
		} else {
			others++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("administrators: %w", err)
	}
	return civic.CheckAdminsLeft(target, others)
}

// DeleteUser erases an account at now (GDPR right to erasure, art. 17). What the
// person made public stays, without them; everything else about them goes:
//
//   - the account row and its sessions are deleted, and so are its e-mail
//     preferences and every mail waiting for it in the outbox (reset mails
//     asked for its address too);
//   - supports: on proposals whose voting is still open they are withdrawn (as
//     by Unvote: an erased citizen who signs up again cannot count twice); on
//     proposals whose voting has closed they become an anonymous count
//     (proposals.erased_votes), so the counts the decisions were taken on stay;
//     either way no row names the voter;
//   - proposals and comments that were public stay, author NULL; a proposal
//     still awaiting moderation and a comment that is pending or hidden were
//     never public and are deleted;
//   - expert reviews stay with the proposal they scored, expert NULL;
//   - proposal history and audit entries keep the event with civic.ErasedUser
//     in place of the id, and audit entries of sign-ins lose the client
//     address they carried (as does any entry whose detail names the id).
//
// The agent of a mission is refused (reassign first), and so is the last
// administrator (civic.LastAdminError). On SQLite the bytes are then scrubbed
// from the database file and its WAL (see scrub).
func (s *Store) DeleteUser(ctx context.Context, userID string, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var role string
		if err := s.row(ctx, tx, `SELECT role FROM users WHERE id = ?`, userID).Scan(&role); err != nil {
			return notFound(err, "user")
		}
		var n int
		if err := s.row(ctx, tx, `SELECT COUNT(*) FROM missions WHERE agent_id = ?`, userID).Scan(&n); err != nil {
			return fmt.Errorf("count missions: %w", err)
		}
		if n > 0 {
			return civic.Errorf(civic.ECONFLICT, "the account is the agent of %d mission(s); reassign them first", n)
		}
		if civic.Role(role) == civic.RoleAdmin {
			if err := s.keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		if err := s.keepErasedSupports(ctx, tx, userID, now); err != nil {
			return err
		}
		// What was never public goes with its author (civic's KeptByErasure).
		erased, erasedArgs := statusIn("status", civic.ErasedStatuses())
		erasedComments, erasedCommentArgs := commentStatusIn("status", civic.ErasedCommentStatuses())
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`DELETE FROM votes WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM sessions WHERE user_id = ?`, []any{userID}},
			// E-mail preferences, and every mail waiting for the person: those
			// of the account, and reset mails asked for its address (they
			// name no account until they are sent).
			{`DELETE FROM notification_prefs WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM mail_outbox WHERE user_id = ? OR recipient = (SELECT email FROM users WHERE id = ?)`, []any{userID, userID}},
			{`DELETE FROM comments WHERE author_id = ? AND ` + erasedComments, append([]any{userID}, erasedCommentArgs...)},
			{`DELETE FROM proposals WHERE author_id = ? AND ` + erased, append([]any{userID}, erasedArgs...)},
			{`UPDATE proposals SET author_id = NULL WHERE author_id = ?`, []any{userID}},
			{`UPDATE comments SET author_id = NULL WHERE author_id = ?`, []any{userID}},
			{`UPDATE reviews SET expert_id = NULL WHERE expert_id = ?`, []any{userID}},
			{`UPDATE proposal_history SET by_user = ? WHERE by_user = ?`, []any{civic.ErasedUser, userID}},
			{`UPDATE audit SET detail = '' WHERE ((actor = ? OR target = ?) AND action LIKE 'auth.%') OR detail LIKE '%' || ? || '%'`,
				[]any{userID, userID, userID}},
			{`UPDATE audit SET actor = ? WHERE actor = ?`, []any{civic.ErasedUser, userID}},
			{`UPDATE audit SET target = ? WHERE target = ?`, []any{civic.ErasedUser, userID}},
		} {
			if _, err := s.exec(ctx, tx, st.q, st.args...); err != nil {
				return fmt.Errorf("erase user data: %w", err)
			}
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM users WHERE id = ?`, userID); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return s.audit(ctx, tx, civic.ErasedUser, "user.delete", civic.ErasedUser, "")
	})
	if err != nil {
		return err
	}
	s.scrub(ctx)
	return nil
}

// keepErasedSupports turns, inside the erasure's transaction, the supports
// of userID that civic.ErasureKeepsSupport keeps (voting closed at now) into
// anonymous counts (proposals.erased_votes); the others are withdrawn with
// the vote rows. The proposals are read with their campaign's period and, on
// PostgreSQL, locked in id order (FOR NO KEY UPDATE, the lock their UPDATE
// takes: a status change waits, a vote of someone else does not), so no
// status change can move one between the rule's decision and the count it
// stores, nor two erasures deadlock on them.
func (s *Store) keepErasedSupports(ctx context.Context, tx *sql.Tx, userID string, now time.Time) error {
	lock := ""
	if s.postgres {
		lock = " FOR NO KEY UPDATE OF p"
	}
	rows, err := s.query(ctx, tx, `SELECT p.id, p.status, c.starts, c.ends FROM votes v
		JOIN proposals p ON p.id = v.proposal_id JOIN campaigns c ON c.id = p.campaign_id
		WHERE v.user_id = ? ORDER BY p.id`+lock, userID)
	if err != nil {
		return fmt.Errorf("erased supports: %w", err)
	}
	var kept []any
	for rows.Next() {
		var id, status string
		var starts, ends int64
		if err := rows.Scan(&id, &status, &starts, &ends); err != nil {
			rows.Close()
			return fmt.Errorf("scan support: %w", err)
		}
		if civic.ErasureKeepsSupport(civic.Status(status), &civic.Campaign{Starts: fromMS(starts), Ends: fromMS(ends)}, now) {
			kept = append(kept, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("erased supports: %w", err)
	}
	const batch = 500 // bound the statement's parameters
	for len(kept) > 0 {
		n := min(batch, len(kept))
		if _, err := s.exec(ctx, tx, `UPDATE proposals SET erased_votes = erased_votes + 1 WHERE id IN (?`+
			strings.Repeat(", ?", n-1)+`)`, kept[:n]...); err != nil {
			return fmt.Errorf("keep erased supports: %w", err)
		}
		kept = kept[n:]
	}
	return nil
}

// scrub makes what an erasure deleted unreadable in SQLite's files. Every
// connection runs with secure_delete on (Open), so the pages the erasure
// wrote carry zeros where the rows were (free space, freed pages, index
// entries); but they were written to the WAL, and the WAL's older frames
// still hold the pages as they were. A TRUNCATE checkpoint copies the new
// pages into the database file and empties the WAL; it waits (busy timeout)
// for readers of an older snapshot. The erasure is committed either way, so a
// failure is logged, not returned; the next erasure's checkpoint catches up.
// PostgreSQL has no such control: see docs/api.md (VACUUM and retention).
func (s *Store) scrub(ctx context.Context) {
	if s.postgres {
		return
	}
	if err := s.Checkpoint(ctx); err != nil {
		s.log.Warn("erasure: WAL checkpoint incomplete; erased rows may stay in the WAL until the next one", "err", err)
	}
}

// Checkpoint copies SQLite's WAL into the database file and truncates it
// (PRAGMA wal_checkpoint(TRUNCATE)); a no-op on PostgreSQL.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.postgres {
		return nil
	}
	var busy, frames, done int
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("wal checkpoint: busy (%d of %d frames copied)", done, frames)
	}
	return nil
}

// ExportUser gathers everything stored about a user (GDPR right of access),
// and nothing about anyone else: audit entries about the user that another
// account or an anonymous client did name civic.OtherActor as the actor and
// lose their detail (a failed sign-in's detail is the address of whoever
// tried, so it is never exported), and entries where the user acted on
// another account name civic.OtherActor as the target, without detail.
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
	if ex.Audit == nil {
		ex.Audit = []*civic.AuditEntry{}
	}
	for _, e := range ex.Audit {
		ownAuditView(e, userID)
	}
	if err := s.row(ctx, s.db, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, userID).Scan(&ex.Sessions); err != nil {
		return nil, fmt.Errorf("export sessions: %w", err)
	}
	return ex, nil
}

// ownAuditView strips from an audit entry about userID what is about
// someone else (ExportUser).
func ownAuditView(e *civic.AuditEntry, userID string) {
	byUser := e.Actor == userID && e.Action != "auth.signin_failed" // a failed sign-in is whoever tried
	// Keep a detail the user's own action wrote, or one that describes the
	// user (the role an administrator gave them); drop the rest (client
	// addresses of others).
	keepDetail := byUser || (e.Target == userID && e.Action == "user.role")
	if !byUser {
		e.Actor = civic.OtherActor
	}
	// The targets of these actions are accounts: another's is not the user's to see.
	if e.Target != userID && (strings.HasPrefix(e.Action, "user.") || strings.HasPrefix(e.Action, "auth.") || strings.HasPrefix(e.Action, "gdpr.")) {
		e.Target, keepDetail = civic.OtherActor, false
	}
	if !keepDetail {
		e.Detail = ""
	}
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
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND u.blocked IS NULL`, tokenHash).
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
