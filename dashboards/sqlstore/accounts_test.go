package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

func reason(err error) string {
	var ce *civic.Error
	if errors.As(err, &ce) && ce.Code == civic.ETOKEN {
		r, _ := ce.Extra["reason"].(string)
		return r
	}
	return "not a token error: " + fmt.Sprint(err)
}

func link(t *testing.T, s *sqlstore.Store, u *civic.User, purpose civic.TokenPurpose, email string, ttl time.Duration) string {
	t.Helper()
	h := civic.NewID() + civic.NewID() // stands for a token's hash
	now := time.Now().UTC()
	if err := s.CreateToken(context.Background(), &civic.AccountToken{TokenHash: h, UserID: u.ID, Purpose: purpose, Email: email, Created: now, Expires: now.Add(ttl)}); err != nil {
		t.Fatal(err)
	}
	return h
}

func session(t *testing.T, s *sqlstore.Store, u *civic.User) string {
	t.Helper()
	h := civic.NewID() + civic.NewID()
	if err := s.CreateSession(context.Background(), &civic.Session{TokenHash: h, UserID: u.ID, Kind: civic.SessionBearer,
		Created: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestAccountLinks: links are single-use under concurrency, expire, die
// when the address changes, and reset / change of password end the sessions
// they should — on SQLite and PostgreSQL.
func TestAccountLinks(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Store
			f := newFixture(t, s, 2)
			u := f.citizens[0]
			if u.EmailVerified != nil {
				t.Fatal("a new citizen is verified")
			}

			// Single use: of 8 concurrent confirmations, one passes.
			h := link(t, s, u, civic.TokenVerify, u.Email, time.Hour)
			if tk, err := s.Token(ctx, h, time.Now()); err != nil || tk.Purpose != civic.TokenVerify || tk.Used != nil {
				t.Fatalf("peek: %+v %v", tk, err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, used := 0, 0
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, err := s.ConfirmEmail(ctx, h, time.Now(), "")
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case reason(err) == civic.TokenUsed:
						used++
					default:
						t.Errorf("confirm: %v", err)
					}
				}()
			}
			wg.Wait()
			if ok != 1 || used != 7 {
				t.Fatalf("%d confirmations passed, %d refused as used", ok, used)
			}
			got, err := s.UserByID(ctx, u.ID)
			if err != nil || got.EmailVerified == nil || got.Level() != civic.AssuranceEmail {
				t.Fatalf("after confirmation %+v %v", got, err)
			}

			// Expired, unknown, wrong purpose, stale.
			v := f.citizens[1]
			exp := link(t, s, v, civic.TokenVerify, v.Email, time.Millisecond)
			if _, err := s.Token(ctx, exp, time.Now().Add(time.Second)); reason(err) != civic.TokenExpired {
				t.Fatalf("expired peek: %v", err)
			}
			if _, _, err := s.ConfirmEmail(ctx, exp, time.Now().Add(time.Second), ""); reason(err) != civic.TokenExpired {
				t.Fatalf("expired: %v", err)
			}
			if _, _, err := s.ConfirmEmail(ctx, "nope", time.Now(), ""); reason(err) != civic.TokenUnknown {
				t.Fatalf("unknown: %v", err)
			}
			rs := link(t, s, v, civic.TokenReset, v.Email, time.Hour)
			if _, _, err := s.ConfirmEmail(ctx, rs, time.Now(), ""); reason(err) != civic.TokenUnknown {
				t.Fatalf("reset link used to confirm: %v", err)
			}
			stale := link(t, s, v, civic.TokenVerify, "ancienne@example.fr", time.Hour)
			if _, _, err := s.ConfirmEmail(ctx, stale, time.Now(), ""); reason(err) != civic.TokenStale {
				t.Fatalf("stale: %v", err)
			}
			if got, _ := s.UserByID(ctx, v.ID); got.EmailVerified != nil {
				t.Fatal("a refused link verified the address")
			}
			// A refused use leaves the link usable for its own purpose later.
			if _, err := s.Token(ctx, rs, time.Now()); err != nil {
				t.Fatalf("reset link after a refused confirmation: %v", err)
			}

			// Address change: the new address replaces the old, the other
			// sessions end, older links die.
			keep, other := session(t, s, v), session(t, s, v)
			oldVerify := link(t, s, v, civic.TokenVerify, v.Email, time.Hour)
			newAddr := "nouvelle." + civic.NewID() + "@example.fr"
			ch := link(t, s, v, civic.TokenEmailChange, newAddr, time.Hour)
			got, tk, err := s.ConfirmEmail(ctx, ch, time.Now(), keep)
			if err != nil || got.Email != newAddr || got.EmailVerified == nil || tk.Purpose != civic.TokenEmailChange {
				t.Fatalf("address change: %+v %+v %v", got, tk, err)
			}
			if _, _, err := s.SessionUser(ctx, other, time.Now()); code(err) != civic.EUNAUTHORIZED {
				t.Fatalf("other session after the change: %v", err)
			}
			if _, _, err := s.SessionUser(ctx, keep, time.Now()); err != nil {
				t.Fatalf("kept session: %v", err)
			}
			for _, h := range []string{oldVerify, rs} {
				if _, err := s.Token(ctx, h, time.Now()); reason(err) != civic.TokenUsed {
					t.Fatalf("link sent before the change: %v", err)
				}
			}
			// A change to a taken address fails and changes nothing.
			taken := link(t, s, v, civic.TokenEmailChange, u.Email, time.Hour)
			if _, _, err := s.ConfirmEmail(ctx, taken, time.Now(), ""); code(err) != civic.ECONFLICT {
				t.Fatalf("taken address: %v", err)
			}
			if _, err := s.Token(ctx, taken, time.Now()); err != nil {
				t.Fatalf("the refused change used its link: %v", err)
			}

			// Reset: every session ends, other reset links die.
			w := &civic.User{Email: "reset." + civic.NewID() + "@example.fr", Name: "W", Role: civic.RoleCitizen, PasswordHash: "old"}
			if err := s.CreateUser(ctx, w); err != nil {
				t.Fatal(err)
			}
			s1 := session(t, s, w)
			r1, r2 := link(t, s, w, civic.TokenReset, w.Email, time.Hour), link(t, s, w, civic.TokenReset, w.Email, time.Hour)
			got, err = s.ResetPassword(ctx, r1, "new", time.Now())
			if err != nil || got.EmailVerified == nil {
				t.Fatalf("reset: %+v %v", got, err)
			}
			if got, _ := s.UserByID(ctx, w.ID); got.PasswordHash != "new" {
				t.Fatal("password not replaced")
			}
			if _, _, err := s.SessionUser(ctx, s1, time.Now()); code(err) != civic.EUNAUTHORIZED {
				t.Fatalf("session after reset: %v", err)
			}
			if _, err := s.ResetPassword(ctx, r2, "again", time.Now()); reason(err) != civic.TokenUsed {
				t.Fatalf("second reset link: %v", err)
			}

			// Change: the other sessions end, this one stays.
			a, c := session(t, s, w), session(t, s, w)
			if n, err := s.ChangePassword(ctx, w.ID, "newer", a); err != nil || n != 1 {
				t.Fatalf("change: %d %v", n, err)
			}
			if _, _, err := s.SessionUser(ctx, c, time.Now()); code(err) != civic.EUNAUTHORIZED {
				t.Fatalf("other session after change: %v", err)
			}
			ses, err := s.UserSessions(ctx, w.ID, time.Now())
			if err != nil || len(ses) != 1 || ses[0].TokenHash != a || ses[0].ID == "" {
				t.Fatalf("sessions %+v %v", ses, err)
			}
			if _, err := s.DeleteUserSession(ctx, u.ID, ses[0].ID); code(err) != civic.ENOTFOUND {
				t.Fatalf("another user's session: %v", err)
			}

			// Assurance.
			if err := s.SetAssurance(ctx, f.admin.ID, u.ID, civic.AssuranceStrong, "mairie"); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.UserByID(ctx, u.ID); got.Level() != civic.AssuranceStrong || got.AssuranceBy != "mairie" {
				t.Fatalf("level %d by %q", got.Level(), got.AssuranceBy)
			}
			if got, _ := s.UserByID(ctx, w.ID); got.Level() != civic.AssuranceEmail {
				t.Fatalf("w level %d", got.Level())
			}
			if err := s.SetAssurance(ctx, f.admin.ID, w.ID, civic.AssuranceStrong, ""); code(err) != civic.EINVALID {
				t.Fatalf("no method: %v", err)
			}
		})
	}
}

// TestMailOutbox: two replicas claiming the same outbox each take a mail
// at most once; failures wait for their retry time; given-up mails are not
// pending and are swept later.
func TestMailOutbox(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s, r := b.Store, sqltest.Replica(t, b).Store
			now := time.Now().UTC()
			for i := range 30 {
				if err := s.EnqueueMail(ctx, &civic.OutboxMail{Kind: civic.MailReset, Recipient: fmt.Sprintf("r%d@example.fr", i), Created: now}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.PendingMail(ctx); err != nil || n != 30 {
				t.Fatalf("pending %d %v", n, err)
			}
			seen := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, st := range []*sqlstore.Store{s, r, s, r} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						ms, err := st.ClaimMail(ctx, now, time.Minute, 4)
						if err != nil {
							t.Error(err)
							return
						}
						if len(ms) == 0 {
							return
						}
						mu.Lock()
						for _, m := range ms {
							seen[m.ID]++
							if m.Attempts != 1 {
								t.Errorf("attempts %d", m.Attempts)
							}
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(seen) != 30 {
				t.Fatalf("%d mails claimed, want 30", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("mail %s claimed %d times", id, n)
				}
			}
			// Claimed mails are not due again before the lease ends.
			if ms, _ := s.ClaimMail(ctx, now.Add(30*time.Second), time.Minute, 100); len(ms) != 0 {
				t.Fatalf("%d mails claimed twice within the lease", len(ms))
			}
			ids := make([]string, 0, len(seen))
			for id := range seen {
				ids = append(ids, id)
			}
			// One sent, one failing (retry in 10 min), one given up.
			if err := s.FinishMail(ctx, ids[0], nil, time.Time{}, false); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishMail(ctx, ids[1], errors.New("dial tcp: connection refused — é"), now.Add(10*time.Minute), false); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishMail(ctx, ids[2], errors.New("550 no such user"), time.Time{}, true); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.PendingMail(ctx); n != 28 {
				t.Fatalf("pending %d, want 28 (one sent, one given up)", n)
			}
			ms, err := r.ClaimMail(ctx, now.Add(11*time.Minute), time.Minute, 100)
			if err != nil {
				t.Fatal(err)
			}
			var retried *civic.OutboxMail
			for _, m := range ms {
				if m.ID == ids[2] || m.ID == ids[0] {
					t.Fatalf("mail %s claimed after it was finished", m.ID)
				}
				if m.ID == ids[1] {
					retried = m
				}
			}
			if retried == nil || retried.Attempts != 2 || retried.LastError == "" {
				t.Fatalf("retried mail %+v", retried)
			}
			if n, err := s.SweepAccounts(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
				t.Fatalf("sweep removed %d (%v), want the given-up mail", n, err)
			}
		})
	}
}

// TestMigrationAccounts rolls 00005 back, stores accounts and a session as
// they were before it, and migrates up again: staff accounts come out
// verified, citizens not, and the session keeps working with an id.
func TestMigrationAccounts(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dialect := goose.DialectSQLite3
			if b.Name == "postgres" {
				dialect = goose.DialectPostgres
			}
			p, err := goose.NewProvider(dialect, b.Store.DB(), sqlstore.MigrationsFS)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 4); err != nil {
				t.Fatalf("down: %v", err)
			}
			db := b.Store.DB()
			q := func(query string, args ...any) {
				t.Helper()
				if b.Name == "postgres" {
					for i := 1; i <= len(args); i++ {
						query = replaceFirst(query, "?", fmt.Sprintf("$%d", i))
					}
				}
				if _, err := db.ExecContext(ctx, query, args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			}
			created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
			q(`INSERT INTO users (id, email, name, role, password_hash, created) VALUES (?, ?, ?, ?, ?, ?)`, "c1", "c1@example.fr", "C", "citizen", "h", created)
			q(`INSERT INTO users (id, email, name, role, password_hash, created) VALUES (?, ?, ?, ?, ?, ?)`, "e1", "e1@example.fr", "E", "expert", "h", created)
			hash := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			q(`INSERT INTO sessions (token_hash, user_id, kind, csrf, created, expires) VALUES (?, ?, ?, ?, ?, ?)`, hash, "c1", "bearer", "", created, time.Now().Add(time.Hour).UnixMilli())

			s := sqltest.Replica(t, b).Store // migrates up
			c, err := s.UserByID(ctx, "c1")
			if err != nil || c.EmailVerified != nil {
				t.Fatalf("citizen after migration %+v %v", c, err)
			}
			e, err := s.UserByID(ctx, "e1")
			if err != nil || e.EmailVerified == nil || e.EmailVerified.UnixMilli() != created {
				t.Fatalf("expert after migration %+v %v", e, err)
			}
			se, u, err := s.SessionUser(ctx, hash, time.Now())
			if err != nil || u.ID != "c1" || se.ID != hash[:16] {
				t.Fatalf("session after migration %+v %+v %v", se, u, err)
			}
		})
	}
}

func replaceFirst(s, old, repl string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + repl + s[i+len(old):]
		}
	}
	return s
}
