package api

import (
	"bufio"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/dashboards/web"
)

// live streams readings as Server-Sent Events, flushing after each event and
// sending a comment every LiveKeepAlive (15 s) so dead clients are noticed;
// the stream ends, and frees its slot in the hub, when the client goes or
// the hub closes (shutdown). The hub (dashboards/live) matches the series and
// caps the streams; this is the HTTP side.
func (s *Server) live(c *fiber.Ctx) error {
	series, err := live.ParseSeries(c.Query("series"))
	if err != nil {
		return err
	}
	sub, err := s.hub.Subscribe(s.kit.ClientKey(c), series)
	if err != nil {
		return s.liveRefusal(c, err)
	}
	return s.stream(c, sub, "reading")
}

// stream writes sub's events as Server-Sent Events named event.
func (s *Server) stream(c *fiber.Ctx, sub *live.Subscription, event string) error {
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer sub.Close()
		tick := time.NewTicker(s.cfg.LiveKeepAlive)
		defer tick.Stop()
		if _, err := w.WriteString(": connected\n\n"); err != nil || w.Flush() != nil {
			return
		}
		for {
			select {
			case <-sub.Done():
				_, _ = w.WriteString("event: close\ndata: {}\n\n")
				_ = w.Flush()
				return
			case <-tick.C:
				if _, err := w.WriteString(": keep-alive\n\n"); err != nil || w.Flush() != nil {
					return
				}
			case msg := <-sub.Events():
				if _, err := w.WriteString("event: " + event + "\ndata: "); err != nil {
					return
				}
				_, _ = w.Write(msg)
				if _, err := w.WriteString("\n\n"); err != nil || w.Flush() != nil {
					return
				}
			}
		}
	})
	return nil
}

// liveRefusal answers a refused subscription: 429 when the client has
// LiveMaxPerClient streams open, 503 when the process has LiveMaxStreams;
// both with Retry-After, about when a departed client's slot is noticed free
// (one keep-alive). During shutdown, 503 without one.
func (s *Server) liveRefusal(c *fiber.Ctx, err error) error {
	var refusal *civic.Error
	kind := ""
	switch {
	case errors.Is(err, live.ErrClientFull):
		kind = "live"
		refusal = &civic.Error{Code: civic.ETOOMANY, Message: "too many live streams open from your address (at most " + strconv.Itoa(s.cfg.LiveMaxPerClient) + "); close one"}
	case errors.Is(err, live.ErrFull):
		kind = "live_total"
		refusal = &civic.Error{Code: civic.EUNAVAILABLE, Message: "the live feed is full; retry later"}
	case errors.Is(err, live.ErrClosed):
		return civic.Errorf(civic.EUNAVAILABLE, "shutting down")
	default:
		return err
	}
	s.kit.Metrics().Limited(kind)
	secs := web.RetryAfterSeconds(s.cfg.LiveKeepAlive)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	refusal.Extra = map[string]any{"retry_after": secs}
	return refusal
}
