package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

var _ civic.NotificationService = (*Store)(nil)

// mailable is the condition on u (users) for receiving any notification
// mail, checked when a mail is queued and again when it is sent. E-mail
// verification makes it "u.email_verified IS NOT NULL" (or whatever the
// column is named): that one line keeps unverified addresses out.
const mailable = `1 = 1`

// NotificationPrefs returns userID's consent to status e-mails; an account
// that never set them has both off.
func (s *Store) NotificationPrefs(ctx context.Context, userID string) (*civic.NotificationPrefs, error) {
	return s.prefs(ctx, s.db, userID)
}

func (s *Store) prefs(ctx context.Context, q querier, userID string) (*civic.NotificationPrefs, error) {
	var own, supported, updated sql.NullInt64
	err := s.row(ctx, q, `SELECT own_since, supported_since, updated FROM notification_prefs WHERE user_id = ?`, userID).
		Scan(&own, &supported, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return &civic.NotificationPrefs{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notification prefs: %w", err)
	}
	p := &civic.NotificationPrefs{OwnSince: fromNullMS(own), SupportedSince: fromNullMS(supported), Updated: fromNullMS(updated)}
	p.OwnProposals, p.SupportedProposals = p.OwnSince != nil, p.SupportedSince != nil
	return p, nil
}

// SetNotificationPrefs stores userID's consent. A preference turned on
// records now as the time consent was given; one that stays on keeps its
// time; one turned off forgets it. A change is audited with its source (the
// proof of consent, GDPR art. 7(1)); an unknown account is ENOTFOUND.
func (s *Store) SetNotificationPrefs(ctx context.Context, userID string, own, supported bool, source string, now time.Time) (*civic.NotificationPrefs, error) {
	var out *civic.NotificationPrefs
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.prefs(ctx, tx, userID)
		if err != nil {
			return err
		}
		since := func(on bool, was *time.Time) sql.NullInt64 {
			switch {
			case !on:
				return sql.NullInt64{}
			case was != nil:
				return sql.NullInt64{Int64: ms(*was), Valid: true}
			}
			return sql.NullInt64{Int64: ms(now), Valid: true}
		}
		o, sp := since(own, cur.OwnSince), since(supported, cur.SupportedSince)
		_, err = s.exec(ctx, tx, `INSERT INTO notification_prefs (user_id, own_since, supported_since, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET own_since = excluded.own_since, supported_since = excluded.supported_since, updated = excluded.updated`,
			userID, o, sp, ms(now))
		if isForeignKey(err) {
			return civic.Errorf(civic.ENOTFOUND, "user not found")
		}
		if err != nil {
			return fmt.Errorf("set notification prefs: %w", err)
		}
		if own != cur.OwnProposals || supported != cur.SupportedProposals {
			onOff := map[bool]string{true: "on", false: "off"}
			if err := s.audit(ctx, tx, userID, "notify.prefs", userID,
				"own="+onOff[own]+" supported="+onOff[supported]+" source="+source); err != nil {
				return err
			}
		}
		out = &civic.NotificationPrefs{OwnProposals: own, SupportedProposals: supported,
			OwnSince: fromNullMS(o), SupportedSince: fromNullMS(sp), Updated: fromNullMS(sql.NullInt64{Int64: ms(now), Valid: true})}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// wants is the condition under which u, with preferences np, wants a mail
// about proposal p: its author who asked about their own proposals, or a
// supporter who asked about the proposals they support.
const wants = `((np.own_since IS NOT NULL AND p.author_id = u.id) OR
	(np.supported_since IS NOT NULL AND EXISTS (SELECT 1 FROM votes v WHERE v.proposal_id = p.id AND v.user_id = u.id)))`

// EnqueueStatusMails queues, in one statement, a mail about proposal
// reaching status to for each person who wants one: its author and its
// supporters who opted in, each once (an author who also supports gets one),
// never the actor who made the change. Queuing the same change again adds
// nothing.
func (s *Store) EnqueueStatusMails(ctx context.Context, proposalID string, to civic.Status, reason, actorID string, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.db, `INSERT INTO status_mail_outbox
		(proposal_id, to_status, user_id, reason, created, attempts, next_attempt, lease_until, last_error)
		SELECT p.id, ?, u.id, ?, ?, 0, ?, 0, ''
		FROM proposals p
		JOIN users u ON u.id IN (SELECT author_id FROM proposals WHERE id = p.id UNION SELECT user_id FROM votes WHERE proposal_id = p.id)
		JOIN notification_prefs np ON np.user_id = u.id
		WHERE p.id = ? AND u.id <> ? AND `+mailable+` AND `+wants+`
		ON CONFLICT (proposal_id, to_status, user_id) DO NOTHING`,
		string(to), reason, ms(now), ms(now), proposalID, actorID)
	if err != nil {
		return 0, fmt.Errorf("queue status mails: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("queue status mails: %w", err)
	}
	return int(n), nil
}

// ClaimStatusMails leases up to limit mails that are due and not leased by
// another replica, until now+lease, and returns them with what delivery
// needs, read now: a person who withdrew consent, a support or whose address
// is no longer mailable since the mail was queued gets nothing (the mail is
// dropped). A lease that runs out (a replica died while sending) makes the
// mail due again: delivery is at least once.
func (s *Store) ClaimStatusMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*civic.StatusMail, error) {
	// Candidates that turn out unwanted (dropped) or leased by another
	// replica meanwhile leave the due set: read again until some are
	// deliverable or none is due.
	for {
		out, due, err := s.claim(ctx, now, lease, limit)
		if err != nil || len(out) > 0 || due == 0 {
			return out, err
		}
	}
}

func (s *Store) claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*civic.StatusMail, int, error) {
	rows, err := s.query(ctx, s.db, `SELECT proposal_id, to_status, user_id FROM status_mail_outbox
		WHERE next_attempt <= ? AND lease_until <= ? ORDER BY next_attempt, created LIMIT ?`, ms(now), ms(now), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("due status mails: %w", err)
	}
	var due []*civic.StatusMail
	for rows.Next() {
		var m civic.StatusMail
		var to string
		if err := rows.Scan(&m.ProposalID, &to, &m.UserID); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("scan status mail: %w", err)
		}
		m.To = civic.Status(to)
		due = append(due, &m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("due status mails: %w", err)
	}
	var out []*civic.StatusMail
	for _, m := range due {
		res, err := s.exec(ctx, s.db, `UPDATE status_mail_outbox SET lease_until = ?
			WHERE proposal_id = ? AND to_status = ? AND user_id = ? AND lease_until <= ?`,
			ms(now.Add(lease)), m.ProposalID, string(m.To), m.UserID, ms(now))
		if err != nil {
			return out, len(due), fmt.Errorf("lease status mail: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another replica took it
		}
		var created int64
		var author sql.NullString
		var own, supported sql.NullInt64
		var votes int
		err = s.row(ctx, s.db, `SELECT o.reason, o.attempts, o.created, u.email, u.name, p.title, p.author_id,
			np.own_since, np.supported_since, (SELECT COUNT(*) FROM votes v WHERE v.proposal_id = p.id AND v.user_id = u.id)
			FROM status_mail_outbox o JOIN users u ON u.id = o.user_id JOIN proposals p ON p.id = o.proposal_id
			JOIN notification_prefs np ON np.user_id = u.id
			WHERE o.proposal_id = ? AND o.to_status = ? AND o.user_id = ? AND `+mailable,
			m.ProposalID, string(m.To), m.UserID).
			Scan(&m.Reason, &m.Attempts, &created, &m.Email, &m.Name, &m.Title, &author, &own, &supported, &votes)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, len(due), fmt.Errorf("status mail: %w", err)
		}
		m.Created = fromMS(created)
		m.Author = err == nil && own.Valid && author.String == m.UserID
		switch {
		case m.Author:
			m.Since = fromMS(own.Int64)
		case err == nil && supported.Valid && votes > 0:
			m.Since = fromMS(supported.Int64)
		default: // no longer wanted (or no longer mailable)
			if err := s.StatusMailSent(ctx, m); err != nil {
				return out, len(due), err
			}
			continue
		}
		out = append(out, m)
	}
	return out, len(due), nil
}

// StatusMailSent removes a delivered (or dropped) mail from the outbox.
func (s *Store) StatusMailSent(ctx context.Context, m *civic.StatusMail) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM status_mail_outbox WHERE proposal_id = ? AND to_status = ? AND user_id = ?`,
		m.ProposalID, string(m.To), m.UserID); err != nil {
		return fmt.Errorf("status mail sent: %w", err)
	}
	return nil
}

// StatusMailFailed records a failed delivery: one more attempt, due again
// at retry (its lease released); with giveUp the mail is removed.
func (s *Store) StatusMailFailed(ctx context.Context, m *civic.StatusMail, retry time.Time, giveUp bool) error {
	if giveUp {
		return s.StatusMailSent(ctx, m)
	}
	if _, err := s.exec(ctx, s.db, `UPDATE status_mail_outbox SET attempts = attempts + 1, next_attempt = ?, lease_until = 0
		WHERE proposal_id = ? AND to_status = ? AND user_id = ?`, ms(retry), m.ProposalID, string(m.To), m.UserID); err != nil {
		return fmt.Errorf("status mail failed: %w", err)
	}
	return nil
}

// PendingStatusMails counts the outbox (a gauge, and tests).
func (s *Store) PendingStatusMails(ctx context.Context) (int, error) {
	var n int
	if err := s.row(ctx, s.db, `SELECT COUNT(*) FROM status_mail_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count status mails: %w", err)
	}
	return n, nil
}

// UnsubscribeSecret returns the HMAC key of the unsubscribe links, creating
// it on first use: every replica inserts a random candidate and all keep
// whichever row won, so links signed by one replica work on every other.
func (s *Store) UnsubscribeSecret(ctx context.Context) ([]byte, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	if _, err := s.exec(ctx, s.db, `INSERT INTO unsubscribe_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("unsubscribe secret: %w", err)
	}
	var h string
	if err := s.row(ctx, s.db, `SELECT secret FROM unsubscribe_secret WHERE id = 1`).Scan(&h); err != nil {
		return nil, fmt.Errorf("unsubscribe secret: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil || len(secret) < 32 {
		return nil, errors.New("unsubscribe secret: malformed row")
	}
	return secret, nil
}
