package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// problemStatus is THE table from error codes to HTTP statuses.
var problemStatus = map[string]int{
	civic.EINVALID:      http.StatusBadRequest,
	civic.EUNAUTHORIZED: http.StatusUnauthorized,
	civic.EFORBIDDEN:    http.StatusForbidden,
	civic.ECSRF:         http.StatusForbidden,
	civic.ENOTFOUND:     http.StatusNotFound,
	civic.ECONFLICT:     http.StatusConflict,
	civic.EOVERBUDGET:   http.StatusConflict,
	civic.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	civic.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	civic.ETOOMANY:      http.StatusTooManyRequests,
	civic.EUNAVAILABLE:  http.StatusServiceUnavailable,
	civic.EINTERNAL:     http.StatusInternalServerError,
	civic.EUNVERIFIED:   http.StatusForbidden,
	civic.EASSURANCE:    http.StatusForbidden,
	civic.ETOKEN:        http.StatusBadRequest,
}

// ProblemTypeBase prefixes the "type" URI of every problem.
const ProblemTypeBase = "https://smartdeal.departement06.fr/problems/"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	// Extensions (e.g. over_by_eur, field) are merged at the top level.
	Extra map[string]any `json:"-"`
}

// MarshalJSON flattens the extensions into the object.
func (p Problem) MarshalJSON() ([]byte, error) {
	m := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code}
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// toCivic turns any error into a *civic.Error (the only place that knows the
// error types of Fiber and of the measure package).
func ToCivic(err error) *civic.Error {
	var ce *civic.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, series.ErrBadParam), errors.Is(err, series.ErrBadRange):
		return civic.Errorf(civic.EINVALID, "%s", err.Error())
	case errors.Is(err, series.ErrUnavailable):
		return civic.Errorf(civic.EUNAVAILABLE, "measurements are unavailable right now")
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			return civic.Errorf(civic.ETOOLARGE, "request body too large")
		case fiber.StatusNotFound:
			return civic.Errorf(civic.ENOTFOUND, "no such route")
		case fiber.StatusMethodNotAllowed:
			return &civic.Error{Code: civic.EINVALID, Message: "method not allowed", Extra: map[string]any{"status_override": fiber.StatusMethodNotAllowed}}
		case fiber.StatusTooManyRequests:
			return civic.Errorf(civic.ETOOMANY, "too many requests; retry later")
		case fiber.StatusBadRequest:
			return civic.Errorf(civic.EINVALID, "%s", fe.Message)
		}
		if fe.Code >= 400 && fe.Code < 500 { // e.g. 408 from the server on a slow client
			return &civic.Error{Code: civic.EINVALID, Message: fe.Message, Extra: map[string]any{"status_override": fe.Code}}
		}
	}
	return civic.Errorf(civic.EINTERNAL, "internal error")
}

// ProblemStatus is the HTTP status of an error code (500 for an unknown one).
func ProblemStatus(code string) int {
	if st, ok := problemStatus[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// ErrorHandler is Fiber's error handler: every error leaves as problem+json.
func (k *Kit) ErrorHandler(c *fiber.Ctx, err error) error {
	ce := ToCivic(err)
	status, ok := problemStatus[ce.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	extra := ce.Extra
	if v, ok := extra["status_override"].(int); ok {
		status = v
		extra = nil
	}
	if status >= 500 {
		k.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	// A form post refused before its route's chain (body too large, not
	// UTF-8): the form's French page, as formErrors gives for the rest.
	if FromForm(c) {
		if rt := match(k.formPosts, c); rt != nil {
			return rt.Form.FormError(c, err)
		}
	}
	if k.PageError != nil && wantsPage(c) {
		if perr := k.PageError(c, status, ce.Code); perr == nil {
			return nil
		}
	}
	p := Problem{Type: ProblemTypeBase + ce.Code, Title: http.StatusText(status), Status: status,
		Detail: ce.Message, Instance: c.Path(), Code: ce.Code, Extra: extra}
	b, mErr := json.Marshal(p)
	if mErr != nil {
		return c.Status(http.StatusInternalServerError).SendString("internal error")
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(status).Send(b)
}

// wantsPage reports whether an error should be answered with a French HTML
// page rather than problem+json: a browser (Accept names text/html) asking
// for a page (GET or HEAD outside the machine routes). API clients, which
// do not ask for HTML, keep problem+json everywhere.
func wantsPage(c *fiber.Ctx) bool {
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		return false
	}
	p := c.Path()
	for _, machine := range []string{"/api/", "/opendata/", "/metrics", "/healthz", "/readyz"} {
		if strings.HasPrefix(p, machine) {
			return false
		}
	}
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}
