package senml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal"
)

// refDecodeSenML is the reference decoder of the differential fuzz target: it
// reads the pack with encoding/json (token by token, so that duplicate labels
// and label case are seen) and feeds the same resolver as Decode. It is
// slow and obviously right; the hand-written scanner must agree with it.
func refDecodeSenML(data []byte, now time.Time) ([]ResolvedRecord, error) {
	recs, err := refScan(data)
	if err != nil {
		return nil, fmt.Errorf("reference: %w: %w", err, smartdeal.ErrMalformedPayload)
	}
	i := 0
	next := func(r *rawRecord) (bool, error) {
		if i == len(recs) {
			return false, nil
		}
		*r = recs[i]
		i++
		return true, nil
	}
	d := new(senmlDecoder)
	if err := d.resolve(now, next); err != nil {
		return nil, err
	}
	return d.resolved(), nil
}

var errRefRange = errors.New("number out of range")

func refScan(data []byte) ([]rawRecord, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("pack must be a JSON array")
	}
	var recs []rawRecord
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		r, err := refRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", len(recs), err)
		}
		recs = append(recs, r)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, err
	}
	rest, _ := io.ReadAll(dec.Buffered())
	if len(bytes.Trim(rest, " \t\r\n")) != 0 || int(dec.InputOffset())+len(rest) != len(data) {
		return nil, errors.New("data after the pack")
	}
	if len(recs) == 0 {
		return nil, errors.New("empty pack")
	}
	return recs, nil
}

func refRecord(raw json.RawMessage) (rawRecord, error) {
	var r rawRecord
	if raw[0] != '{' {
		return r, errors.New("record must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return r, err
	}
	unknown := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r, err
		}
		key := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return r, err
		}
		f := senmlLabel([]byte(key))
		if f == 0 {
			if strings.HasSuffix(key, "_") {
				return r, fmt.Errorf("must-understand label %q", key)
			}
			if unknown[key] {
				return r, fmt.Errorf("duplicate label %q", key)
			}
			if len(unknown) == senmlMaxUnknown {
				return r, errors.New("too many unknown labels")
			}
			unknown[key] = true
			if refDepth(val) > senmlMaxDepth {
				return r, errors.New("nested too deeply")
			}
			continue
		}
		if r.has&f != 0 {
			return r, fmt.Errorf("duplicate label %q", key)
		}
		r.has |= f
		if err := refField(&r, f, val); err != nil {
			return r, fmt.Errorf("%s: %w", key, err)
		}
	}
	return r, nil
}

func refField(r *rawRecord, f senmlField, val json.RawMessage) error {
	switch f {
	case fBN, fBU, fN, fU, fVS, fVD:
		if val[0] != '"' {
			return errors.New("not a string")
		}
		var s string
		if err := json.Unmarshal(val, &s); err != nil {
			return err
		}
		b := []byte(s)
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
		if val[0] != 't' && val[0] != 'f' {
			return errors.New("not a boolean")
		}
		return json.Unmarshal(val, &r.vb)
	case fBVer:
		if val[0] != '-' && (val[0] < '0' || val[0] > '9') {
			return errors.New("not a number")
		}
		return json.Unmarshal(val, &r.bver)
	default:
		if val[0] != '-' && (val[0] < '0' || val[0] > '9') {
			return errors.New("not a number")
		}
		var n json.Number
		if err := json.Unmarshal(val, &n); err != nil {
			return err
		}
		x, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return errRefRange
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
	return nil
}

// refDepth is the nesting depth of containers in a JSON value.
func refDepth(val json.RawMessage) int {
	depth, maxDepth := 0, 0
	dec := json.NewDecoder(bytes.NewReader(val))
	for {
		tok, err := dec.Token()
		if err != nil {
			return maxDepth
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
				maxDepth = max(maxDepth, depth)
			} else {
				depth--
			}
		}
	}
}
