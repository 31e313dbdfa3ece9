package api

import "context"

// UnsubscribeToken is the token of userID's unsubscribe link, for tests that
// open /desabonnement/{token} without a mail.
func UnsubscribeToken(s *Server, ctx context.Context, userID string) (string, error) {
	return s.act.UnsubscribeToken(ctx, userID)
}
