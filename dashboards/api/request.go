package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// decode reads a JSON body strictly: right media type, known fields only, one value.
func decode(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return civic.Errorf(civic.EUNSUPPORTED, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if len(msg) > 160 {
			msg = msg[:160]
		}
		return civic.Errorf(civic.EINVALID, "body: %s", msg)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return civic.Errorf(civic.EINVALID, "body: trailing data after the JSON value")
	}
	return nil
}

func intQuery(c *fiber.Ctx, name string, def, minV, maxV int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < minV || n > maxV {
		return 0, civic.FieldError(name, "want an integer between %d and %d", minV, maxV)
	}
	return n, nil
}

func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
