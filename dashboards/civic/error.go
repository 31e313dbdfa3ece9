package civic

import (
	"errors"
	"fmt"
)

// Error codes. The API maps each to one HTTP status in a single table.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // credentials valid, role not allowed
	ENOTFOUND     = "not_found"    // the resource does not exist
	ECONFLICT     = "conflict"     // the resource's state forbids the change
	EOVERBUDGET   = "over_budget"  // a selection would exceed the campaign budget
	ETOOMANY      = "rate_limited" // too many requests
	ETOOLARGE     = "too_large"    // the body is larger than allowed
	EUNAVAILABLE  = "unavailable"  // a backing service (InfluxDB, MQTT) failed
	EINTERNAL     = "internal"     // anything else; never shown to users
	ECSRF         = "csrf"         // a cookie-authenticated write without a valid CSRF token
	EUNSUPPORTED  = "unsupported"  // media type not supported
)

// Error codes of account security (docs/api.md, "Verified accounts").
const (
	EUNVERIFIED = "email_unverified"   // the account's e-mail address is not verified yet
	EASSURANCE  = "assurance_required" // the action needs a higher identity assurance level
	ETOKEN      = "token_invalid"      // a single-use link that is unknown, expired, used or stale (Extra["reason"])
)

// Error is the one error type of the civic domain. Its Message is safe to show
// to users; internal details stay in wrapped errors and logs.
type Error struct {
	Code    string
	Message string
	// Extra holds machine-readable details that the API adds to the
	// problem+json body (e.g. "over_by_eur" for EOVERBUDGET, "field").
	Extra map[string]any
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("civic: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error naming the offending field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: field + ": " + fmt.Sprintf(format, args...), Extra: map[string]any{"field": field}}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, or a generic text for
// errors that are not *Error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
