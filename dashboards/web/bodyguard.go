package web

import (
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Request bodies are bounded before anything buffers them. The server streams
// request bodies (fasthttp's StreamRequestBody: it reads at most 8 KiB ahead
// of the handler and pre-parses no multipart form), so a body is in memory
// only once bodyRead, the first middleware after authentication on every
// request, routed or not, has read it within its route's limit:
//
//   - the streamed routes (Route.stream: the flight-log upload) keep theirs
//     unread; their handler reads it through uploadBody, after the route's
//     guard has checked the caller, up to Config.FlightLogLimit;
//   - everywhere else the body is read at once, up to Config.BodyLimit: a
//     larger Content-Length is refused (413) without reading a byte of it, a
//     chunked body as soon as it passes the limit;
//   - a body with a Content-Encoding is refused (415): decoding is what turns
//     64 KiB into gigabytes (Fiber's c.Body() would gunzip without a bound).
//
// A body left unread (refused, or the request refused before bodyRead, e.g. an
// invalid bearer token) closes the connection after the answer (bodyGuard,
// the first middleware): the next request on it could not be told from the
// rest of the body.

// bodyKey is the Locals key of a streamed route's *UploadBody; the form-value
// reader sees it too (fasthttp user values), so that nothing parses a
// streamed body as a form.
const bodyKey = "smartdeal.upload_body"

// errBodyTooLarge is what uploadBody returns past its limit.
var errBodyTooLarge = errors.New("request body over the limit")

// pathPattern is a route's method and path, split: ":x" segments match any
// one segment.
type pathPattern struct {
	rt     *Route
	method string
	segs   []string
}

// patterns are the routes for which keep says yes, as patterns.
func (k *Kit) patterns(keep func(*Route) bool) []pathPattern {
	var out []pathPattern
	for _, rt := range k.routes {
		if keep(rt) {
			out = append(out, pathPattern{rt: rt, method: rt.Method, segs: strings.Split(strings.Trim(rt.Path, "/"), "/")})
		}
	}
	return out
}

// match finds the request's route among ps, matching like Fiber's router
// does by default (case-insensitive, trailing slash ignored); nil if none.
// Should a streamed route ever be missed, its upload is refused for its
// size: never read without a bound.
func match(ps []pathPattern, c *fiber.Ctx) *Route {
	segs := strings.Split(strings.Trim(c.Path(), "/"), "/")
	for _, p := range ps {
		if p.method != c.Method() || len(p.segs) != len(segs) {
			continue
		}
		ok := true
		for i, seg := range p.segs {
			if strings.HasPrefix(seg, ":") {
				ok = segs[i] != ""
			} else {
				ok = strings.EqualFold(seg, segs[i])
			}
			if !ok {
				break
			}
		}
		if ok {
			return p.rt
		}
	}
	return nil
}

// bodyGuard is the first middleware: it hands a streamed route's body to its
// handler unread, and after any request whose body was not read to its end
// drops it and closes the connection.
func (k *Kit) bodyGuard(c *fiber.Ctx) error {
	req := c.Request()
	var upload *UploadBody
	if match(k.streams, c) != nil {
		length := req.Header.ContentLength() // -1: chunked
		upload = &UploadBody{r: req.BodyStream(), length: length, limit: k.cfg.UploadLimit}
		upload.done = upload.r == nil || length == 0
		c.Locals(bodyKey, upload)
	}
	err := c.Next()
	if (upload != nil && !upload.done) || (upload == nil && req.BodyStream() != nil) {
		c.Response().SetConnectionClose()
		// Dropped before the error handler runs: a form's French page reads
		// its fields, which would read the rest of the body unbounded.
		req.SetBodyRaw(nil)
	}
	return err
}

// bodyRead reads the body of every request but the streamed ones within
// Config.BodyLimit, or refuses it.
func (k *Kit) bodyRead(c *fiber.Ctx) error {
	req := c.Request()
	refuse := func(err error) error {
		c.Response().SetConnectionClose()
		req.SetBodyRaw(nil) // nothing after this reads the rest
		return err
	}
	if enc := strings.TrimSpace(string(req.Header.Peek(fiber.HeaderContentEncoding))); enc != "" && !strings.EqualFold(enc, "identity") {
		return refuse(civic.Errorf(civic.EUNSUPPORTED, "compressed request bodies (Content-Encoding) are not accepted"))
	}
	if c.Locals(bodyKey) != nil {
		return c.Next()
	}
	if req.Header.ContentLength() > k.cfg.BodyLimit {
		return refuse(civic.Errorf(civic.ETOOLARGE, "request body larger than %d bytes", k.cfg.BodyLimit))
	}
	if stream := req.BodyStream(); stream != nil {
		body, err := io.ReadAll(io.LimitReader(stream, int64(k.cfg.BodyLimit)+1))
		if err != nil {
			return refuse(civic.Errorf(civic.EINVALID, "the request body could not be read"))
		}
		if len(body) > k.cfg.BodyLimit {
			return refuse(civic.Errorf(civic.ETOOLARGE, "request body larger than %d bytes", k.cfg.BodyLimit))
		}
		req.SetBodyRaw(body) // closes the stream: from here on c.Body() is this
	}
	return c.Next()
}

// uploadBody is a streamed route's request body, read by its handler.
type UploadBody struct {
	r      io.Reader
	length int // Content-Length, -1 when chunked
	limit  int
	n      int
	done   bool // read to its end: the connection can serve another request
	over   bool // longer than limit
}

func (b *UploadBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.over {
		return 0, errBodyTooLarge
	}
	if room := b.limit - b.n + 1; len(p) > room {
		p = p[:room] // one byte past the limit is enough to know
	}
	n, err := b.r.Read(p)
	b.n += n
	if b.n > b.limit {
		b.over = true
		return n - (b.n - b.limit), errBodyTooLarge
	}
	if errors.Is(err, io.EOF) {
		b.done = true
	}
	return n, err
}

// uploadBody returns the unread body of a streamed route, or ETOOLARGE when
// its Content-Length says it is over the limit.
func (k *Kit) Upload(c *fiber.Ctx) (*UploadBody, error) {
	b, _ := c.Locals(bodyKey).(*UploadBody)
	if b == nil {
		// Not matched as streamed (an unusual spelling of the path):
		// bodyRead has read the body within BodyLimit.
		b = &UploadBody{r: strings.NewReader(string(c.Body())), limit: k.cfg.UploadLimit}
	}
	if b.length > b.limit {
		return nil, civic.Errorf(civic.ETOOLARGE, "flight log larger than %d bytes", b.limit)
	}
	return b, nil
}

// formValue is the server's FormValueFunc: form fields come from a
// urlencoded or multipart body only, never from the query string (fasthttp's
// default looks there first, so a CSRF token or a password in a link would
// have counted), and never from a streamed body.
func formValue(ctx *fasthttp.RequestCtx, key string) []byte {
	if ctx.UserValue(bodyKey) != nil {
		return nil
	}
	if v := ctx.PostArgs().Peek(key); len(v) > 0 {
		return v
	}
	if mf, err := ctx.MultipartForm(); err == nil && len(mf.Value[key]) > 0 {
		return []byte(mf.Value[key][0])
	}
	return nil
}

// Over reports whether the body went past its limit (the handler answers 413).
func (b *UploadBody) Over() bool { return b.over }
