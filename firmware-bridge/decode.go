package bridge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Reasons a frame is refused. Each is counted in Stats.
var (
	// ErrUnknownMessage means the message id is not in the ardupilotmega dialect:
	// its checksum cannot be checked and its content cannot be read.
	ErrUnknownMessage = errors.New("unknown message id")
	// ErrChecksum means the frame's CRC does not match its content.
	ErrChecksum = errors.New("wrong checksum")
	// ErrUndecodable means the payload does not fit the message definition.
	ErrUndecodable = errors.New("undecodable payload")
	// ErrUnsigned means a vehicle with a signing key sent an unsigned (or MAVLink 1) frame.
	ErrUnsigned = errors.New("unsigned frame from a vehicle with a signing key")
	// ErrBadSignature means the frame's signature does not match the vehicle's key.
	ErrBadSignature = errors.New("wrong signature")
	// ErrReplay means a signed frame's timestamp is more than 10 s older than the newest seen.
	ErrReplay = errors.New("signature timestamp too old")
)

// signatureEpoch is the origin of MAVLink 2 signature timestamps (units of 10 µs).
var signatureEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// replayWindow is how far back (in 10 µs units) a signed frame may be dated
// relative to the newest one from the same vehicle and link: UDP reorders.
const replayWindow = 10 * 100000

// ParseKey turns a configured signing key into a MAVLink 2 secret key: 64 hex
// characters are the 32 key bytes; anything else is a passphrase hashed with
// SHA-256, as MAVProxy and Mission Planner do.
func ParseKey(s string) (*frame.V2Key, error) {
	if s == "" {
		return nil, errors.New("empty key")
	}
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return frame.NewV2Key(b), nil
		}
	}
	sum := sha256.Sum256([]byte(s))
	return frame.NewV2Key(sum[:]), nil
}

// dialectRW is the ardupilotmega dialect (a superset of common), built once.
var dialectRW = func() *dialect.ReadWriter {
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		panic(fmt.Sprintf("ardupilotmega dialect: %v", err))
	}
	return rw
}()

// v1Size is the MAVLink 1 payload size of every message of the dialect: its
// base fields, without the MAVLink 2 extensions.
var v1Size = func() map[uint32]int {
	sizes := make(map[uint32]int, len(ardupilotmega.Dialect.Messages))
	for _, m := range ardupilotmega.Dialect.Messages {
		if mp := dialectRW.GetMessage(m.GetID()); mp != nil {
			sizes[m.GetID()] = len(mp.Write(m, false).Payload)
		}
	}
	return sizes
}()

// Decoder checks raw frames (checksum, per-vehicle signature) and decodes their
// messages with the ardupilotmega dialect. It is not safe for concurrent use.
type Decoder struct {
	keys    map[uint8]*frame.V2Key
	lastSig map[sigKey]uint64
}

type sigKey struct {
	sys, link uint8
}

// NewDecoder returns a Decoder; keys maps a system id to its signing key.
func NewDecoder(keys map[uint8]*frame.V2Key) *Decoder {
	return &Decoder{keys: keys, lastSig: make(map[sigKey]uint64)}
}

// Verify checks the signing rules of the frame's vehicle: with a key configured,
// the frame must be a MAVLink 2 frame signed with that key and not replayed.
func (d *Decoder) Verify(fr frame.Frame) error {
	key := d.keys[fr.GetSystemID()]
	if key == nil {
		return nil
	}
	f2, ok := fr.(*frame.V2Frame)
	if !ok || !f2.IsSigned() || f2.Signature == nil {
		return ErrUnsigned
	}
	sig := f2.GenerateSignature(key)
	if subtle.ConstantTimeCompare(sig[:], f2.Signature[:]) != 1 {
		return ErrBadSignature
	}
	k := sigKey{f2.SystemID, f2.SignatureLinkID}
	last := d.lastSig[k]
	if last > replayWindow && f2.SignatureTimestamp < last-replayWindow {
		return ErrReplay
	}
	if f2.SignatureTimestamp > last {
		d.lastSig[k] = f2.SignatureTimestamp
	}
	return nil
}

// Decode checks the frame's checksum and decodes its message. The frame's
// message must be raw (*message.MessageRaw), as read by a node without dialect.
func (d *Decoder) Decode(fr frame.Frame) (message.Message, error) {
	raw, ok := fr.GetMessage().(*message.MessageRaw)
	if !ok {
		return fr.GetMessage(), nil // already decoded
	}
	mp := dialectRW.GetMessage(raw.ID)
	if mp == nil {
		return nil, fmt.Errorf("message %d: %w", raw.ID, ErrUnknownMessage)
	}
	if sum := fr.GenerateChecksum(mp.CRCExtra()); sum != fr.GetChecksum() {
		return nil, fmt.Errorf("message %d: %w", raw.ID, ErrChecksum)
	}
	_, isV2 := fr.(*frame.V2Frame)
	payload := raw.Payload
	if n := v1Size[raw.ID]; !isV2 && len(payload) > n {
		// Some third-party senders put the extension fields in MAVLink 1
		// frames too (SYS_STATUS of 43 bytes, BATTERY_STATUS of 54); the CRC
		// covers them, but MAVLink 1 has no extensions: read the base.
		payload = payload[:n]
	}
	msg, err := mp.Read(&message.MessageRaw{ID: raw.ID, Payload: payload}, isV2)
	if err != nil {
		return nil, fmt.Errorf("message %d: %w: %w", raw.ID, ErrUndecodable, err)
	}
	return msg, nil
}

// Encoder builds complete outgoing frames (sequence, checksum and, with a key,
// signature) so that each vehicle can be addressed with its own key and its
// own MAVLink version. It is not safe for concurrent use.
type Encoder struct {
	SystemID, ComponentID uint8
	LinkID                uint8
	seq                   uint8
	lastSigTime           uint64
}

// Frame encodes msg as a MAVLink 1 or 2 frame, signed when key is not nil
// (signing forces MAVLink 2).
func (e *Encoder) Frame(msg message.Message, v2 bool, key *frame.V2Key, now time.Time) (frame.Frame, error) {
	mp := dialectRW.GetMessage(msg.GetID())
	if mp == nil {
		return nil, fmt.Errorf("encode message %d: %w", msg.GetID(), ErrUnknownMessage)
	}
	seq := e.seq
	e.seq++
	if key == nil && !v2 {
		f := &frame.V1Frame{SequenceNumber: seq, SystemID: e.SystemID, ComponentID: e.ComponentID,
			Message: mp.Write(msg, false)}
		f.Checksum = f.GenerateChecksum(mp.CRCExtra())
		return f, nil
	}
	f := &frame.V2Frame{SequenceNumber: seq, SystemID: e.SystemID, ComponentID: e.ComponentID,
		Message: mp.Write(msg, true)}
	if key != nil {
		f.IncompatibilityFlag = frame.V2FlagSigned
	}
	f.Checksum = f.GenerateChecksum(mp.CRCExtra())
	if key != nil {
		ts := uint64(now.Sub(signatureEpoch) / (10 * time.Microsecond))
		if ts <= e.lastSigTime {
			ts = e.lastSigTime + 1 // strictly increasing, as the spec asks
		}
		e.lastSigTime = ts
		f.SignatureLinkID = e.LinkID
		f.SignatureTimestamp = ts
		f.Signature = f.GenerateSignature(key)
	}
	return f, nil
}
