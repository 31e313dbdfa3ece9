package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// OpenAPI builds the OpenAPI 3.0 document from the route table: every route,
// its parameters, body and response schemas (by reflection on the Go types),
// its security and the problem+json errors it may answer.
func (k *Kit) OpenAPI(licence string) map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range k.routes {
		p := openAPIPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
		}
		var params []map[string]any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, ":") {
				name, _, _ := strings.Cut(seg[1:], ".")
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, pr := range rt.Params {
			params = append(params, map[string]any{"name": pr.Name, "in": pr.In, "required": pr.Required, "description": pr.Description, "schema": map[string]any{"type": pr.Type}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if _, raw := rt.Body.([]byte); raw {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		} else if rt.Body != nil && rt.Form != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				fiber.MIMEApplicationForm: map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Body), 0)}}}
		} else if rt.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Body), 0)}}}
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		switch {
		case status == http.StatusNoContent, status == http.StatusSeeOther:
		case rt.Produces != "":
			ok["content"] = map[string]any{rt.Produces: map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Response), 0)}}
		default:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		responses := map[string]any{strconv.Itoa(status): ok, "default": map[string]any{"$ref": "#/components/responses/Problem"}}
		if rt.Access == SignedIn {
			op["security"] = []map[string][]string{{"bearer": {}}, {"cookie": {}}}
			desc := "Signed-in users"
			if len(rt.Roles) > 0 {
				rs := make([]string, len(rt.Roles))
				for i, r := range rt.Roles {
					rs[i] = string(r)
				}
				desc = "Roles: " + strings.Join(rs, ", ")
			}
			if rt.Assurance > civic.AssuranceNone {
				desc += fmt.Sprintf("; the account needs identity assurance level %d (1: e-mail address verified), else 403 email_unverified or assurance_required", rt.Assurance)
			}
			op["description"] = desc + ". Cookie sessions must send the X-CSRF-Token header on writes."
			if rt.Form != nil && rt.Method != fiber.MethodGet {
				op["description"] = desc + ". An HTML form: the session's CSRF token goes in the csrf field (or the X-CSRF-Token header)."
			}
			responses["401"] = map[string]any{"$ref": "#/components/responses/Problem"}
			responses["403"] = map[string]any{"$ref": "#/components/responses/Problem"}
		}
		if k.limiters[rt.LimitKind()] != nil || rt.Limit == "signin" || rt.Path == "/api/v1/live" {
			responses["429"] = map[string]any{"$ref": "#/components/responses/RateLimited"}
		}
		// 503 with Retry-After: the live feed full; sign-in and sign-up when
		// their shared rate limiter cannot be reached (they fail closed).
		if rt.Limit == "signin" || rt.Limit == "signup" || rt.Path == "/api/v1/live" {
			responses["503"] = map[string]any{"$ref": "#/components/responses/Unavailable"}
		}
		op["responses"] = responses
		paths[p][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "SMART Deal civic API", "version": "1.0.0",
			"description": "Proposals, votes, expert selection, missions, devices and the measurements that link them. Errors are application/problem+json (RFC 9457).",
			"license":     map[string]any{"name": licence}},
		"servers": []map[string]any{{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
			"schemas": map[string]any{"Problem": map[string]any{"type": "object", "required": []string{"type", "title", "status", "code"},
				"properties": map[string]any{"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
					"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"}, "instance": map[string]any{"type": "string"},
					"code": map[string]any{"type": "string"}, "over_by_eur": map[string]any{"type": "integer"}, "field": map[string]any{"type": "string"},
					"retry_after": map[string]any{"type": "integer"}}}},
			"responses": map[string]any{"Problem": map[string]any{"description": "Problem details (RFC 9457)",
				"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}},
				"Unavailable": map[string]any{"description": "Unavailable (code unavailable): the live feed has no free stream (with Retry-After), or the rate limiter cannot be reached",
					"headers": map[string]any{"Retry-After": map[string]any{"description": "Seconds to wait before retrying (when known)",
						"schema": map[string]any{"type": "integer", "minimum": 1}}},
					"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}},
				"RateLimited": map[string]any{"description": "Rate limit reached (code rate_limited, retry_after in seconds): per client address (an IPv6 /64), per network for sign-ups, per account for votes and contributions, per e-mail address for sign-in attempts, or too many live streams open from the address",
					"headers": map[string]any{"Retry-After": map[string]any{"description": "Seconds until the limit's window ends",
						"schema": map[string]any{"type": "integer", "minimum": 1}}},
					"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}},
		},
	}
}

func operationID(rt *Route) string {
	if rt.OperationID != "" {
		return rt.OperationID
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(strings.TrimPrefix(rt.Path, "/api/v1"), "/") {
		seg = strings.NewReplacer(":", "by_", ".", "_", "-", "_").Replace(seg)
		if seg != "" {
			b.WriteString("_" + seg)
		}
	}
	return b.String()
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

// enums are the closed sets of values the schemas name.
var enums = map[reflect.Type][]string{
	reflect.TypeOf(civic.Status("")):           enumOf(civic.Statuses),
	reflect.TypeOf(civic.ModerationReason("")): enumOf(civic.ModerationReasons),
	reflect.TypeOf(civic.CommentStatus("")):    enumOf(civic.CommentStatuses),
}

func enumOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// schemaOf derives a JSON schema from a Go type using its json tags.
func schemaOf(t reflect.Type, depth int) map[string]any {
	if depth > 8 {
		return map[string]any{"type": "object"}
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"type": "object", "description": "GeoJSON"}
	case enums[t] != nil:
		return map[string]any{"type": "string", "enum": enums[t]}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), depth+1)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), depth+1)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), depth+1)}
	case reflect.Struct:
		props := map[string]any{}
		collectProps(t, props, depth)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func collectProps(t reflect.Type, props map[string]any, depth int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectProps(ft, props, depth)
				continue
			}
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(f.Type, depth+1)
	}
}

// openAPIPath turns /ideas/:id into /ideas/{id} (and :quantity.csv into {quantity}.csv).
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, seg := range parts {
		if strings.HasPrefix(seg, ":") {
			name, rest, _ := strings.Cut(seg[1:], ".")
			if rest != "" {
				rest = "." + rest
			}
			parts[i] = "{" + name + "}" + rest
		}
	}
	return strings.Join(parts, "/")
}
