package senml

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the SenML-specific JSON scanner: no reflection, no
// intermediate tree, strings returned as slices of the input when they have no
// escapes. It accepts exactly RFC 8259 JSON (UTF-8 only) and is checked
// against an encoding/json based reference decoder by FuzzDifferential.

// senmlField is a bit per known SenML label.
type senmlField uint16

const (
	fBN senmlField = 1 << iota
	fBT
	fBU
	fBV
	fBS
	fBVer
	fN
	fU
	fV
	fVS
	fVB
	fVD
	fS
	fT
	fUT

	// fValues are the value fields, of which a record may carry at most one.
	fValues = fV | fVS | fVB | fVD
	// fRegular are the fields that make a record a measurement rather than
	// a record that only sets base fields for the records after it.
	fRegular = fN | fU | fValues | fS | fT | fUT
)

// Limits of the scanner, the same in the reference decoder of the tests.
const (
	// senmlMaxDepth is how deeply a value of an unknown label may nest.
	senmlMaxDepth = 32
	// senmlMaxUnknown is how many unknown labels one record may carry.
	senmlMaxUnknown = 32
)

// senmlLabel maps a label to its field bit; 0 means unknown.
func senmlLabel(k []byte) senmlField {
	switch string(k) {
	case "bn":
		return fBN
	case "bt":
		return fBT
	case "bu":
		return fBU
	case "bv":
		return fBV
	case "bs":
		return fBS
	case "bver":
		return fBVer
	case "n":
		return fN
	case "u":
		return fU
	case "v":
		return fV
	case "vs":
		return fVS
	case "vb":
		return fVB
	case "vd":
		return fVD
	case "s":
		return fS
	case "t":
		return fT
	case "ut":
		return fUT
	}
	return 0
}

// rawRecord is one SenML record as written, before resolution. Its byte
// slices point into the input or the scanner's scratch buffer and are valid
// until the next record is scanned.
type rawRecord struct {
	has                     senmlField
	bn, bu, n, u, vs, vd    []byte
	bt, bv, bs, v, s, t, ut float64
	bver                    int64
	vb                      bool
}

// scanError is a syntax or type error of the scanner; the caller wraps it
// with smartdeal.ErrMalformedPayload or another sentinel.
type scanError struct {
	off  int
	msg  string
	pack bool // an error of the pack as a whole, not of one record
}

func (e *scanError) Error() string { return "offset " + strconv.Itoa(e.off) + ": " + e.msg }

// senmlScanner walks a SenML JSON pack record by record.
type senmlScanner struct {
	data    []byte
	pos     int
	scratch []byte   // decoded escaped strings of the current record
	unknown [][]byte // unknown labels of the current record, for duplicate checks
	started bool
}

func (s *senmlScanner) reset(data []byte) {
	s.data = data
	s.pos = 0
	s.scratch = s.scratch[:0]
	s.unknown = s.unknown[:0]
	s.started = false
}

func (s *senmlScanner) fail(msg string) error { return &scanError{off: s.pos, msg: msg} }

func (s *senmlScanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// next scans the next record into r. It returns false with a nil error at
// the end of the pack.
func (s *senmlScanner) next(r *rawRecord) (bool, error) {
	s.ws()
	if !s.started {
		s.started = true
		if s.pos >= len(s.data) || s.data[s.pos] != '[' {
			return false, &scanError{off: s.pos, msg: "pack must be a JSON array", pack: true}
		}
		s.pos++
		s.ws()
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			return false, &scanError{off: s.pos, msg: "empty pack", pack: true}
		}
	} else {
		if s.pos >= len(s.data) {
			return false, s.fail("unexpected end of pack")
		}
		switch s.data[s.pos] {
		case ']':
			s.pos++
			s.ws()
			if s.pos != len(s.data) {
				return false, &scanError{off: s.pos, msg: "data after the pack", pack: true}
			}
			return false, nil
		case ',':
			s.pos++
			s.ws()
		default:
			return false, s.fail("expected ',' or ']' after a record")
		}
	}
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return false, s.fail("record must be a JSON object")
	}
	s.pos++
	*r = rawRecord{}
	s.scratch = s.scratch[:0]
	s.unknown = s.unknown[:0]
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.ws()
		return true, nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false, s.fail("expected a label")
		}
		keyOff := s.pos
		key, err := s.str()
		if err != nil {
			return false, err
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false, s.fail("expected ':' after a label")
		}
		s.pos++
		s.ws()
		f := senmlLabel(key)
		if f == 0 {
			if len(key) > 0 && key[len(key)-1] == '_' {
				return false, &scanError{off: keyOff, msg: "must-understand label " + strconv.Quote(string(key)) + " not understood"}
			}
			for _, k := range s.unknown {
				if string(k) == string(key) {
					return false, &scanError{off: keyOff, msg: "duplicate label " + strconv.Quote(string(key))}
				}
			}
			if len(s.unknown) == senmlMaxUnknown {
				return false, &scanError{off: keyOff, msg: "too many unknown labels"}
			}
			s.unknown = append(s.unknown, key)
			if err := s.skip(0); err != nil {
				return false, err
			}
		} else {
			if r.has&f != 0 {
				return false, &scanError{off: keyOff, msg: "duplicate label " + strconv.Quote(string(key))}
			}
			r.has |= f
			if err := s.field(r, f); err != nil {
				return false, err
			}
		}
		s.ws()
		if s.pos >= len(s.data) {
			return false, s.fail("unexpected end of record")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.ws()
			return true, nil
		default:
			return false, s.fail("expected ',' or '}' in a record")
		}
	}
}

// field scans the value of known label f into r.
func (s *senmlScanner) field(r *rawRecord, f senmlField) error {
	var err error
	switch f {
	case fBN, fBU, fN, fU, fVS, fVD:
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail(senmlLabelName(f) + " must be a string")
		}
		var b []byte
		b, err = s.str()
		switch f {
		case fBN:
			r.bn = b
		case fBU:
			r.bu = b
		case fN:
			r.n = b
		case fU:
			r.u = b
		case fVS:
			r.vs = b
		case fVD:
			r.vd = b
		}
	case fVB:
		switch {
		case hasPrefixAt(s.data, s.pos, "true"):
			r.vb = true
			s.pos += 4
		case hasPrefixAt(s.data, s.pos, "false"):
			s.pos += 5
		default:
			return s.fail("vb must be a boolean")
		}
	case fBVer:
		start := s.pos
		isInt, e := s.numberSpan()
		if e != nil {
			return s.fail("bver must be a number")
		}
		if !isInt {
			return &scanError{off: start, msg: "bver must be an integer"}
		}
		r.bver, err = strconv.ParseInt(string(s.data[start:s.pos]), 10, 64)
		if err != nil {
			return &scanError{off: start, msg: "bver out of range"}
		}
	default:
		start := s.pos
		if _, e := s.numberSpan(); e != nil {
			return s.fail(senmlLabelName(f) + " must be a number")
		}
		x, ok := parseJSONFloat(s.data[start:s.pos])
		if !ok {
			return &numberRangeError{off: start, label: senmlLabelName(f)}
		}
		switch f {
		case fBT:
			r.bt = x
		case fBV:
			r.bv = x
		case fBS:
			r.bs = x
		case fV:
			r.v = x
		case fS:
			r.s = x
		case fT:
			r.t = x
		case fUT:
			r.ut = x
		}
	}
	return err
}

// numberRangeError is a syntactically valid number that does not fit a float64.
type numberRangeError struct {
	off   int
	label string
}

func (e *numberRangeError) Error() string {
	return "offset " + strconv.Itoa(e.off) + ": " + e.label + " out of the float64 range"
}

func senmlLabelName(f senmlField) string {
	switch f {
	case fBN:
		return "bn"
	case fBT:
		return "bt"
	case fBU:
		return "bu"
	case fBV:
		return "bv"
	case fBS:
		return "bs"
	case fBVer:
		return "bver"
	case fN:
		return "n"
	case fU:
		return "u"
	case fV:
		return "v"
	case fVS:
		return "vs"
	case fVB:
		return "vb"
	case fVD:
		return "vd"
	case fS:
		return "s"
	case fT:
		return "t"
	case fUT:
		return "ut"
	}
	return "?"
}

func hasPrefixAt(b []byte, i int, p string) bool {
	return len(b)-i >= len(p) && string(b[i:i+len(p)]) == p
}

// numberSpan advances over a JSON number (RFC 8259 grammar) and reports
// whether it is an integer (no fraction, no exponent).
func (s *senmlScanner) numberSpan() (isInt bool, err error) {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i++
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return false, s.fail("invalid number")
	}
	isInt = true
	if i < len(d) && d[i] == '.' {
		isInt = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false, s.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		isInt = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false, s.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return isInt, nil
}

// float64pow10 holds the powers of ten exactly representable as float64.
var float64pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// parseJSONFloat converts a number that numberSpan accepted. Plain decimals
// with at most 15 significant digits and a small exponent take an exact fast
// path (Clinger: both operands exact, one correctly rounded operation);
// everything else goes through strconv.ParseFloat. It reports false when the
// number overflows float64.
func parseJSONFloat(b []byte) (float64, bool) {
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits := 0
	exp := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if mant != 0 || b[i] != '0' {
			digits++
		}
		mant = mant*10 + uint64(b[i]-'0')
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if mant != 0 || b[i] != '0' {
				digits++
			}
			mant = mant*10 + uint64(b[i]-'0')
			exp--
		}
	}
	if i == len(b) && digits <= 15 && exp >= -22 {
		f := float64(mant)
		if exp < 0 {
			f /= float64pow10[-exp]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// Only a range error is possible after numberSpan: overflow gives ±Inf.
		// Underflow to zero or a subnormal is not an error in strconv.
		return 0, false
	}
	return f, true
}

// str scans a JSON string at s.pos (which holds '"'). Without escapes it
// returns a slice of the input; otherwise the decoded bytes, appended to the
// scratch buffer. Invalid UTF-8 and raw control characters are errors; escaped
// lone surrogates become U+FFFD, as encoding/json does.
func (s *senmlScanner) str() ([]byte, error) {
	d := s.data
	start := s.pos + 1
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return d[start:i], nil
		case c == '\\':
			return s.strEscaped(start, i)
		case c < 0x20:
			s.pos = i
			return nil, s.fail("control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return nil, s.fail("invalid UTF-8 in string")
			}
			i += size
		}
	}
	s.pos = i
	return nil, s.fail("unterminated string")
}

func (s *senmlScanner) strEscaped(start, i int) ([]byte, error) {
	d := s.data
	base := len(s.scratch)
	out := append(s.scratch, d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.scratch = out
			return out[base:len(out):len(out)], nil
		case c == '\\':
			if i+1 >= len(d) {
				s.pos = i
				return nil, s.fail("unterminated string")
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out = append(out, '\b')
				i += 2
			case 'f':
				out = append(out, '\f')
				i += 2
			case 'n':
				out = append(out, '\n')
				i += 2
			case 'r':
				out = append(out, '\r')
				i += 2
			case 't':
				out = append(out, '\t')
				i += 2
			case 'u':
				r := hex4(d, i+2)
				if r < 0 {
					s.pos = i
					return nil, s.fail("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
						r2 = hex4(d, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				s.pos = i
				return nil, s.fail("invalid escape")
			}
		case c < 0x20:
			s.pos = i
			return nil, s.fail("control character in string")
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return nil, s.fail("invalid UTF-8 in string")
			}
			out = append(out, d[i:i+size]...)
			i += size
		}
	}
	s.pos = i
	return nil, s.fail("unterminated string")
}

// hex4 decodes the four hex digits at d[i:]; -1 if there are none.
func hex4(d []byte, i int) rune {
	if len(d)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// skip advances over any JSON value (of an unknown label), at most
// senmlMaxDepth levels deep.
func (s *senmlScanner) skip(depth int) error {
	if s.pos >= len(s.data) {
		return s.fail("unexpected end of value")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{' || c == '[':
		if depth == senmlMaxDepth {
			return s.fail("value nested too deeply")
		}
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		s.pos++
		s.ws()
		if s.pos < len(s.data) && s.data[s.pos] == closer {
			s.pos++
			return nil
		}
		for {
			s.ws()
			if c == '{' {
				if s.pos >= len(s.data) || s.data[s.pos] != '"' {
					return s.fail("expected a member name")
				}
				if _, err := s.str(); err != nil {
					return err
				}
				s.ws()
				if s.pos >= len(s.data) || s.data[s.pos] != ':' {
					return s.fail("expected ':'")
				}
				s.pos++
				s.ws()
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.pos >= len(s.data) {
				return s.fail("unexpected end of value")
			}
			switch s.data[s.pos] {
			case ',':
				s.pos++
			case closer:
				s.pos++
				return nil
			default:
				return s.fail("expected ',' or a closing bracket")
			}
		}
	case c == 't':
		if hasPrefixAt(s.data, s.pos, "true") {
			s.pos += 4
			return nil
		}
	case c == 'f':
		if hasPrefixAt(s.data, s.pos, "false") {
			s.pos += 5
			return nil
		}
	case c == 'n':
		if hasPrefixAt(s.data, s.pos, "null") {
			s.pos += 4
			return nil
		}
	default:
		_, err := s.numberSpan()
		return err
	}
	return s.fail("invalid value")
}
