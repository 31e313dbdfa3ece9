package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/argon2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	MemoryKiB uint32 // defaults to 19456 (19 MiB)
	Time      uint32 // defaults to 2
	Threads   uint8  // defaults to 1
}

// DefaultPasswordParams are the hashing costs every account gets unless
// api.Config.Password says otherwise: argon2id m=19 MiB, t=2, p=1, the OWASP
// minimum. The one place for them (bootstrap and demo accounts use it too).
func DefaultPasswordParams() PasswordParams {
	var p PasswordParams
	_ = p.validate()
	return p
}

func (p *PasswordParams) validate() error {
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 19 * 1024
	}
	if p.Time == 0 {
		p.Time = 2
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	if p.MemoryKiB < 1024 || p.MemoryKiB > 1<<21 {
		return errors.New("api.password.memory_kib: want between 1024 and 2097152")
	}
	return nil
}

// Hash returns a PHC-format argon2id hash: $argon2id$v=19$m=..,t=..,p=..$salt$key.
func (p PasswordParams) Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword checks password against a PHC argon2id hash in constant time.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "sd_session"

// CSRFHeader carries the CSRF token on cookie-authenticated writes.
const CSRFHeader = "X-CSRF-Token"

type principal struct {
	user    *civic.User
	session *civic.Session
}

const localsKey = "smartdeal.principal"

// authenticate resolves the caller from "Authorization: Bearer …" or the
// session cookie. Anonymous callers pass with no principal; an invalid bearer
// token is refused outright.
func (s *Server) authenticate(c *fiber.Ctx) error {
	tok, fromCookie := "", false
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || rest == "" {
			return civic.Errorf(civic.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\"")
		}
		tok = strings.TrimSpace(rest)
	} else if v := c.Cookies(SessionCookie); v != "" {
		tok, fromCookie = v, true
	}
	if tok == "" {
		return c.Next()
	}
	se, u, err := s.store.SessionUser(c.UserContext(), hashToken(tok), s.now())
	if err != nil {
		if civic.ErrorCode(err) == civic.EUNAUTHORIZED && fromCookie {
			return c.Next() // a stale cookie is just anonymous
		}
		return err
	}
	if fromCookie != (se.Kind == civic.SessionCookie) {
		return civic.Errorf(civic.EUNAUTHORIZED, "token used through the wrong channel")
	}
	c.Locals(localsKey, &principal{user: u, session: se})
	s.touchSession(c, se)
	return c.Next()
}

func caller(c *fiber.Ctx) *principal {
	p, _ := c.Locals(localsKey).(*principal)
	return p
}

// guard enforces a route's access rule: anonymous callers of protected routes
// get 401, callers without one of the roles 403, cookie-authenticated
// writes need the session's CSRF token in X-CSRF-Token (or, on the routes
// posted by HTML forms, in the csrf form field), and accounts below the
// route's assurance level 403 email_unverified or assurance_required.
func guard(rt *Route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if rt.Access == Public {
			return c.Next()
		}
		p := caller(c)
		if p == nil {
			return civic.Errorf(civic.EUNAUTHORIZED, "sign in first")
		}
		if len(rt.Roles) > 0 && !p.user.Role.In(rt.Roles...) {
			return civic.Errorf(civic.EFORBIDDEN, "this action needs one of the roles %v", rt.Roles)
		}
		if p.session.Kind == civic.SessionCookie && c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			got := c.Get(CSRFHeader)
			if got == "" && rt.form != nil {
				got = c.FormValue(csrfField) // HTML forms cannot set headers
			}
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.session.CSRF)) != 1 {
				return civic.Errorf(civic.ECSRF, "missing or wrong %s header", CSRFHeader)
			}
		}
		if err := checkAssurance(p.user, rt.Assurance); err != nil {
			return err
		}
		return c.Next()
	}
}
