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
// mail, checked when a mail is queued and again when it is sent: a verified
// address (migration 00005), so that no one gets status e-mails at an
// address they never confirmed.
const mailable = `u.email_verified IS NOT NULL`

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

// EnqueueStatusMails queues in the mail outbox, in one statement, a mail
// about proposal reaching status to for each person who wants one: its
// author and its supporters who opted in, each once (an author who also
// supports gets one), never the actor who made the change. The row's id
// names the proposal, the status and the person: queuing the same change
// again adds nothing. Its text is written when it is sent (StatusMailFor).
func (s *Store) EnqueueStatusMails(ctx context.Context, proposalID string, to civic.Status, reason, actorID string, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.db, `INSERT INTO mail_outbox
		(id, kind, user_id, recipient, detail, created, next_attempt, proposal_id, proposal_status)
		SELECT 'status:' || p.id || ':' || CAST(? AS TEXT) || ':' || u.id, ?, u.id, u.email, ?, ?, ?, p.id, ?
		FROM proposals p
		JOIN users u ON u.id IN (SELECT author_id FROM proposals WHERE id = p.id UNION SELECT user_id FROM votes WHERE proposal_id = p.id)
		JOIN notification_prefs np ON np.user_id = u.id
		WHERE p.id = ? AND u.id <> ? AND `+mailable+` AND `+wants+`
		ON CONFLICT (id) DO NOTHING`,
		string(to), string(civic.MailStatus), reason, ms(now), ms(now), string(to), proposalID, actorID)
	if err != nil {
		return 0, fmt.Errorf("queue status mails: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("queue status mails: %w", err)
	}
	return int(n), nil
}

// StatusMailFor reads, when the mail is sent, what the status mail about
// proposalID to userID needs, and whether it is still wanted: the account
// exists with a verified address, and the person still consents as the
// author, or as a supporter who still supports a proposal that is still
// public. Otherwise ENOTFOUND (the outbox drops the mail).
func (s *Store) StatusMailFor(ctx context.Context, userID, proposalID string) (*civic.StatusMail, error) {
	var m civic.StatusMail
	var status string
	var author sql.NullString
	var own, supported sql.NullInt64
	var votes int
	err := s.row(ctx, s.db, `SELECT u.email, u.name, p.title, p.status, p.author_id, np.own_since, np.supported_since,
		(SELECT COUNT(*) FROM votes v WHERE v.proposal_id = p.id AND v.user_id = u.id)
		FROM users u JOIN notification_prefs np ON np.user_id = u.id JOIN proposals p ON p.id = ?
		WHERE u.id = ? AND `+mailable, proposalID, userID).
		Scan(&m.Email, &m.Name, &m.Title, &status, &author, &own, &supported, &votes)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, civic.Errorf(civic.ENOTFOUND, "no status mail wanted")
	}
	if err != nil {
		return nil, fmt.Errorf("status mail: %w", err)
	}
	switch {
	case own.Valid && author.String == userID:
		m.Author, m.Since = true, fromMS(own.Int64)
	case supported.Valid && votes > 0 && civic.Status(status).Public():
		m.Since = fromMS(supported.Int64)
	default:
		return nil, civic.Errorf(civic.ENOTFOUND, "no status mail wanted")
	}
	return &m, nil
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
