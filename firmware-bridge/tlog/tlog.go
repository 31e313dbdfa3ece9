// Package tlog imports MAVLink telemetry logs (.tlog, as written by
// QGroundControl, Mission Planner and MAVProxy: each MAVLink frame preceded by
// its reception time, an 8-byte big-endian count of microseconds since the Unix
// epoch) into the platform's readings, with their original timestamps. It
// uses the bridge's Tracker, so a flight uploaded after the fact gives the
// same readings as the same flight seen live.
//
// Real logs are messy. The reader resynchronises on bytes that are not an
// entry (garbage before the first frame, a corrupted stretch), reads MAVLink 1
// and 2 frames mixed, signed and unsigned, from any number of systems and
// components, and counts what it skipped. A log cut short returns everything
// read up to the damage and an *Error giving the byte offset of the cut entry.
//
// What is not a .tlog is refused (ErrNotTlog, ErrNoFrames) rather than
// imported with made-up times: a raw MAVLink stream (no timestamps: entries
// would only be found where frame bytes happen to look like one, so almost
// none follows the previous one), timestamps that jump back, a binary whose
// "frames" have message ids no dialect knows (their CRC cannot be checked:
// such frames are kept only right after a checked one).
//
// An import keeps every message (no decimation, see ImportRates): a flight
// log is the record of the flight.
package tlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/cd06/smartdeal"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
)

// ErrTruncated means the log ends in the middle of an entry.
var ErrTruncated = errors.New("log truncated")

// ErrNoFrames means not a single MAVLink frame was found: not a .tlog.
var ErrNoFrames = errors.New("no MAVLink frame found")

// Error locates an import error in the log.
type Error struct {
	Offset int64 // byte offset of the entry where reading stopped
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("tlog: at byte %d: %v", e.Offset, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Options configure an import. Zero values take the defaults named.
type Options struct {
	// Site of every reading; required.
	Site string
	// (optional) device id per system id; defaults to "drone-<sysid>".
	Devices map[uint8]string
	// (optional) publication interval per message group, as the live bridge
	// (see bridge.Groups); missing groups use ImportRates; 0 keeps every
	// message.
	Rates map[string]time.Duration
	// (optional) MAVLink 2 signing keys per system id: frames of those systems
	// that are not signed with the key are refused and counted.
	Keys map[uint8]*frame.V2Key
	// (optional) mission id set on every reading (the mission the upload belongs to).
	Mission string
	// (optional) link timeout for link_lost/link_regained events; defaults to 5 s.
	LinkTimeout time.Duration
	// (optional) receives the events of the flight (arming, mode changes, STATUSTEXT …).
	OnEvent func(drone.Event)
	// (optional) stop with an error after this many readings; defaults to 10 million.
	MaxReadings int
}

// Stats describe what an import read.
type Stats struct {
	Bytes          int64 `json:"bytes"`
	Frames         int   `json:"frames"` // frames accepted
	MAVLink1       int   `json:"mavlink1"`
	MAVLink2       int   `json:"mavlink2"`
	Signed         int   `json:"signed"`
	Unknown        int   `json:"unknown"`         // frames with a message id outside the dialect (kept for link accounting)
	BadChecksum    int   `json:"bad_checksum"`    // candidate frames whose CRC failed (resynchronised)
	SigningRefused int   `json:"signing_refused"` // frames refused by a configured signing key
	Undecodable    int   `json:"undecodable"`
	SkippedBytes   int64 `json:"skipped_bytes"` // bytes that were not part of any accepted entry
	FirstSkip      int64 `json:"first_skip"`    // offset of the first skipped byte, -1 if none
	Resyncs        int   `json:"resyncs"`       // accepted entries that did not follow the previous one (after skipped bytes)
	Backwards      int   `json:"backwards"`     // entries dated more than a second before the previous one
	Readings       int   `json:"readings"`      // readings returned, also when the log is cut
	Events         int   `json:"events"`
	// Systems are the MAVLink system ids heard; Vehicles those that are
	// vehicles (an autopilot's heartbeat), as JSON lists of numbers.
	Systems   []int       `json:"systems"`
	Vehicles  []int       `json:"vehicles"`
	Truncated *Truncation `json:"truncated,omitempty"` // set when the log is cut or damaged
	Start     time.Time   `json:"start"`
	End       time.Time   `json:"end"`
}

// ImportRates are the publication intervals of an import: every message of
// every group, but the link quality over 5 s windows as the live bridge
// computes it (a ratio per frame would say nothing).
var ImportRates = map[string]time.Duration{
	bridge.GroupPosition: 0, bridge.GroupAttitude: 0, bridge.GroupGPS: 0, bridge.GroupBattery: 0,
	bridge.GroupMission: 0, bridge.GroupStatus: 0, bridge.GroupLink: bridge.DefaultRates[bridge.GroupLink],
	bridge.GroupRadio: 0,
}

const (
	magicV1     = 0xFE
	magicV2     = 0xFD
	maxEntry    = 8 + 10 + 255 + 2 + 13
	minTime     = 946684800 * 1_000_000     // 2000-01-01 in µs
	maxTime     = 4102444800 * 1_000_000    // 2100-01-01 in µs
	maxTimeSkew = 7 * 24 * 3600 * 1_000_000 // a week: beyond, a "timestamp" is noise
)

// Import reads a .tlog and returns its readings in log order. On a truncated
// or unreadable log it returns the readings up to the damage, the stats and an
// *Error with the offset.
func Import(ctx context.Context, r io.Reader, opts Options) ([]smartdeal.Reading, Stats, error) {
	if err := smartdeal.CheckID("site", opts.Site); err != nil {
		return nil, Stats{}, fmt.Errorf("tlog: %w", err)
	}
	if opts.Mission != "" && !smartdeal.ValidID(opts.Mission) {
		return nil, Stats{}, fmt.Errorf("tlog: mission %q: %w", opts.Mission, smartdeal.ErrInvalidID)
	}
	if opts.MaxReadings <= 0 {
		opts.MaxReadings = 10_000_000
	}
	s := &scanner{br: bufio.NewReaderSize(r, 64<<10), stats: Stats{FirstSkip: -1}, check: bridge.NewDecoder(nil), lastEnd: -1}
	s.fbuf = bufio.NewReaderSize(&s.fsrc, 512)
	s.fr = &frame.Reader{BufByteReader: s.fbuf}
	if err := s.fr.Initialize(); err != nil {
		return nil, Stats{}, err
	}
	dec := bridge.NewDecoder(opts.Keys)
	rates := make(map[string]time.Duration, len(ImportRates))
	for g, r := range ImportRates {
		rates[g] = r
	}
	for g, r := range opts.Rates {
		rates[g] = r
	}
	tr := bridge.NewTracker(bridge.TrackerConfig{Site: opts.Site, Devices: opts.Devices, Rates: rates,
		LinkTimeout: opts.LinkTimeout})
	var (
		readings []smartdeal.Reading
		out      bridge.Output
		systems  = map[uint8]bool{}
	)
	// stop ends the import with err: the readings so far, unless the file
	// turns out not to be a tlog at all.
	stop := func(err error) ([]smartdeal.Reading, Stats, error) {
		st := s.finish(systems, tr, len(readings))
		if bad := s.notTlog(); bad != nil {
			st.Readings = 0
			return nil, st, bad
		}
		var te *Error
		if errors.As(err, &te) && errors.Is(err, ErrTruncated) {
			st.Truncated = &Truncation{Offset: te.Offset}
		}
		return readings, st, err
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return stop(&Error{Offset: s.off, Err: err})
			}
		}
		ts, fr, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return stop(err)
		}
		if err := dec.Verify(fr); err != nil {
			s.stats.SigningRefused++
			continue
		}
		msg, err := dec.Decode(fr)
		switch {
		case errors.Is(err, bridge.ErrUnknownMessage):
			s.stats.Unknown++
		case err != nil:
			s.stats.Undecodable++
			continue
		}
		s.count(fr)
		systems[fr.GetSystemID()] = true
		out.Reset()
		if tr.Seen(ts, fr, &out) && msg != nil {
			tr.Handle(ts, fr.GetSystemID(), fr.GetComponentID(), msg, &out)
			// a radio's RADIO_STATUS is the link of the vehicle it serves: in
			// a log (one connection) the only vehicle; with several, nobody's
			if rs, ok := msg.(*ardupilotmega.MessageRadioStatus); ok && !tr.IsVehicle(fr.GetSystemID()) {
				if served, ok := tr.SoleVehicle(); ok {
					tr.RadioStatus(ts, served, rs, &out)
				}
			}
		}
		for i := range out.Readings {
			if opts.Mission != "" {
				out.Readings[i].Mission = opts.Mission
			}
		}
		readings = append(readings, out.Readings...)
		for _, ev := range out.Events {
			s.stats.Events++
			if opts.OnEvent != nil {
				if opts.Mission != "" {
					ev.Mission = opts.Mission
				}
				opts.OnEvent(ev)
			}
		}
		if len(readings) > opts.MaxReadings {
			return stop(&Error{Offset: s.off, Err: fmt.Errorf("more than %d readings", opts.MaxReadings)})
		}
	}
	if s.stats.Frames == 0 {
		return stop(&Error{Offset: 0, Err: ErrNoFrames})
	}
	return stop(nil)
}

// notTlog is the reason the entries read are not those of a .tlog, or nil.
// A real log's entries follow each other, each dated after the previous
// one; a damaged stretch costs a resynchronisation or two. A raw MAVLink
// stream has an entry only where frame bytes happen to look like a
// timestamp: nearly every accepted entry comes after skipped bytes.
func (s *scanner) notTlog() error {
	st := &s.stats
	if st.Frames == 0 {
		return nil
	}
	limit := 2 + st.Frames/20
	switch {
	case st.Resyncs > limit:
		return &Error{Offset: 0, Err: fmt.Errorf("%w: %d of %d frames found only after skipped bytes (a raw MAVLink stream without tlog timestamps?)",
			ErrNotTlog, st.Resyncs, st.Frames)}
	case st.Backwards > limit:
		return &Error{Offset: 0, Err: fmt.Errorf("%w: %d of %d timestamps go back in time", ErrNotTlog, st.Backwards, st.Frames)}
	}
	return nil
}

type scanner struct {
	br      *bufio.Reader
	off     int64 // offset of br's next byte
	lastEnd int64 // offset after the last accepted entry, -1 before the first
	known   int   // accepted frames of a known message (their CRC was checked)
	lastTS  uint64
	stats   Stats
	fsrc    bytes.Reader
	fbuf    *bufio.Reader
	fr      *frame.Reader
	check   *bridge.Decoder
}

func (s *scanner) count(fr frame.Frame) {
	s.stats.Frames++
	if f2, ok := fr.(*frame.V2Frame); ok {
		s.stats.MAVLink2++
		if f2.IsSigned() {
			s.stats.Signed++
		}
	} else {
		s.stats.MAVLink1++
	}
}

func (s *scanner) finish(systems map[uint8]bool, tr *bridge.Tracker, readings int) Stats {
	st := s.stats
	st.Bytes = s.off
	st.Readings = readings
	st.Systems = []int{}
	for id := range systems {
		st.Systems = append(st.Systems, int(id))
	}
	sort.Ints(st.Systems)
	st.Vehicles = []int{}
	for _, v := range tr.Vehicles() {
		st.Vehicles = append(st.Vehicles, int(v.SystemID))
	}
	return st
}

func (s *scanner) skip(n int) {
	if s.stats.FirstSkip < 0 {
		s.stats.FirstSkip = s.off
	}
	s.stats.SkippedBytes += int64(n)
	_, _ = s.br.Discard(n)
	s.off += int64(n)
}

// plausible reports whether the first bytes of b can start an entry's
// timestamp: within 2000…2100 and, once a frame was read, within a week of it.
func (s *scanner) plausible(b []byte) bool {
	var full [8]byte
	n := copy(full[:], b)
	if n < 8 {
		if s.lastTS == 0 {
			return true // cannot tell yet
		}
		var last [8]byte
		binary.BigEndian.PutUint64(last[:], s.lastTS)
		k := min(n, 3)
		return bytes.Equal(full[:k], last[:k])
	}
	ts := binary.BigEndian.Uint64(full[:])
	if ts < minTime || ts > maxTime {
		return false
	}
	if s.lastTS != 0 && (ts+maxTimeSkew < s.lastTS || ts > s.lastTS+maxTimeSkew) {
		return false
	}
	return true
}

// entryLen returns the length of the entry starting with hdr (timestamp and
// frame header), 0 when hdr is not a frame header, -1 when more bytes are needed.
func entryLen(hdr []byte) int {
	if len(hdr) < 10 {
		return -1
	}
	switch hdr[8] {
	case magicV1:
		return 8 + 6 + int(hdr[9]) + 2
	case magicV2:
		if len(hdr) < 11 {
			return -1
		}
		incompat := hdr[10]
		if incompat&^frame.V2FlagSigned != 0 {
			return 0
		}
		n := 8 + 10 + int(hdr[9]) + 2
		if incompat&frame.V2FlagSigned != 0 {
			n += 13
		}
		return n
	}
	return 0
}

// next returns the next valid entry, resynchronising over bytes that are not one.
func (s *scanner) next() (time.Time, frame.Frame, error) {
	for {
		b, _ := s.br.Peek(maxEntry)
		if len(b) == 0 {
			return time.Time{}, nil, io.EOF
		}
		if !s.plausible(b[:min(len(b), 8)]) || len(b) > 8 && b[8] != magicV1 && b[8] != magicV2 {
			s.skip(1)
			continue
		}
		n := entryLen(b)
		if n == 0 {
			s.skip(1)
			continue
		}
		if n < 0 || n > len(b) {
			// the log ends inside what looks like an entry
			if s.stats.Frames > 0 || len(b) >= 9 {
				return time.Time{}, nil, &Error{Offset: s.off, Err: fmt.Errorf("%w: entry needs %s bytes, %d left",
					ErrTruncated, need(n), len(b))}
			}
			s.skip(len(b))
			continue
		}
		s.fsrc.Reset(b[8:n])
		s.fbuf.Reset(&s.fsrc)
		fr, err := s.fr.Read()
		if err != nil || s.fbuf.Buffered() != 0 {
			s.skip(1)
			continue
		}
		// a candidate with a known message id must pass its checksum, or it
		// was a false start; one with an unknown id cannot be checked, so it
		// is an entry only right after a checked one
		_, err = s.check.Decode(fr)
		switch {
		case errors.Is(err, bridge.ErrUnknownMessage):
			if s.known == 0 || s.off != s.lastEnd {
				s.skip(1)
				continue
			}
		case err != nil:
			if errors.Is(err, bridge.ErrChecksum) {
				s.stats.BadChecksum++
			}
			s.skip(1)
			continue
		default:
			s.known++
		}
		if s.off != s.lastEnd {
			s.stats.Resyncs++
		}
		ts := binary.BigEndian.Uint64(b[:8])
		if s.lastTS != 0 && ts+1_000_000 < s.lastTS {
			s.stats.Backwards++
		}
		s.lastTS = ts
		t := time.UnixMicro(int64(ts)).UTC()
		if s.stats.Start.IsZero() || t.Before(s.stats.Start) {
			s.stats.Start = t
		}
		if t.After(s.stats.End) {
			s.stats.End = t
		}
		_, _ = s.br.Discard(n)
		s.off += int64(n)
		s.lastEnd = s.off
		return t, fr, nil
	}
}

func need(n int) string {
	if n < 0 {
		return "more"
	}
	return fmt.Sprint(n)
}

// Truncation says where a log was cut.
type Truncation struct {
	Offset int64 `json:"offset"`
}

// ErrNotTlog means the file holds MAVLink but is not a .tlog.
var ErrNotTlog = errors.New("not a .tlog")
