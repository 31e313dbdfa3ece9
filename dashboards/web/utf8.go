package web

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// utf8Guard refuses, with one 400 for every route, text that is not UTF-8:
// the path (as sent and percent-decoded), every query parameter's name and
// value, a JSON body (RFC 8259 allows nothing else; Go's decoder would
// silently turn the bytes into U+FFFD) and the fields of a form body. It runs
// after bodyGuard, so the body is bounded and already read; a streamed body
// (the binary flight log) is not text. Before it, such text reached the
// database: PostgreSQL refuses it ("invalid byte sequence for encoding
// UTF8"), which surfaced as a 500 and an ERROR line.
func (k *Kit) utf8Guard(c *fiber.Ctx) error {
	req := c.Request()
	if !utf8.Valid(req.URI().PathOriginal()) || !utf8.Valid(req.URI().Path()) {
		return civic.Errorf(civic.EINVALID, "the path is not valid UTF-8")
	}
	ok := true
	check := func(k, v []byte) { ok = ok && utf8.Valid(k) && utf8.Valid(v) }
	req.URI().QueryArgs().VisitAll(check)
	if !ok {
		return civic.Errorf(civic.EINVALID, "a query parameter is not valid UTF-8")
	}
	if c.Locals(bodyKey) != nil {
		return c.Next()
	}
	ct := strings.ToLower(string(req.Header.ContentType()))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationJSON):
		ok = utf8.Valid(req.Body())
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		req.PostArgs().VisitAll(check)
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		if mf, err := req.MultipartForm(); err == nil {
			for k, vs := range mf.Value {
				ok = ok && utf8.ValidString(k)
				for _, v := range vs {
					ok = ok && utf8.ValidString(v)
				}
			}
		}
	}
	if !ok {
		return civic.Errorf(civic.EINVALID, "the request body is not valid UTF-8")
	}
	return c.Next()
}
