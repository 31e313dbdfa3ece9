package actions

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The back office's people workflows, shared by the JSON routes and the
// forms of /admin/personnes.

// RoleReq changes an account's role.
type RoleReq struct {
	Role civic.Role `json:"role"`
}

// SetRole gives userID role r (the store keeps the last administrator and
// audits the change).
func (s *Service) SetRole(c *fiber.Ctx, userID string, r civic.Role) error {
	return s.store.SetUserRole(ctx(c), web.Caller(c).User.ID, userID, r)
}

// BlockReq blocks (with a reason, required) or unblocks an account.
type BlockReq struct {
	Blocked bool   `json:"blocked"`
	Reason  string `json:"reason,omitempty"`
}

// Block applies r to userID and returns the account as the back office
// shows it.
func (s *Service) Block(c *fiber.Ctx, userID string, r BlockReq) (*civic.Person, error) {
	if !r.Blocked && r.Reason != "" {
		return nil, civic.FieldError("reason", "only to block")
	}
	if err := s.store.BlockUser(ctx(c), web.Caller(c).User, userID, r.Blocked, r.Reason, s.now()); err != nil {
		return nil, err
	}
	return s.store.Person(ctx(c), userID)
}
