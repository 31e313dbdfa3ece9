package bridgetest

import (
	"encoding/binary"
	"time"
)

// This file is an independent MAVLink serialiser for tests: frames are built
// byte by byte from the protocol specification, without gomavlib, so a test
// also catches what gomavlib's own sender would hide (field order, CRC_EXTRA,
// MAVLink 1 frames carrying extension bytes, as some third-party senders do).

// CRC_EXTRA of the messages the tests build, from the MAVLink XML definitions.
const (
	CRCHeartbeat         = 50
	CRCSysStatus         = 124
	CRCGlobalPositionInt = 104
	CRCStatustext        = 83
	CRCRadioStatus       = 185
	CRCBatteryStatus     = 154
)

// Message ids of the messages the tests build.
const (
	IDHeartbeat         = 0
	IDSysStatus         = 1
	IDGlobalPositionInt = 33
	IDRadioStatus       = 109
	IDBatteryStatus     = 147
	IDStatustext        = 253
)

// X25 is the MAVLink checksum (CRC-16/MCRF4XX) of data.
func X25(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, b := range data {
		tmp := b ^ byte(crc)
		tmp ^= tmp << 4
		crc = crc>>8 ^ uint16(tmp)<<8 ^ uint16(tmp)<<3 ^ uint16(tmp)>>4
	}
	return crc
}

// Raw is one message to serialise.
type Raw struct {
	Seq, Sys, Comp uint8
	ID             uint32
	CRCExtra       byte
	Payload        []byte // sent as is: no MAVLink 2 zero truncation, no cut of extensions
}

func (r Raw) sum(b []byte) []byte {
	crc := X25(append(append([]byte(nil), b[1:]...), r.CRCExtra))
	return binary.LittleEndian.AppendUint16(b, crc)
}

// V1 serialises r as an unsigned MAVLink 1 frame (magic 0xFE; the id must fit a byte).
func (r Raw) V1() []byte {
	b := []byte{0xFE, byte(len(r.Payload)), r.Seq, r.Sys, r.Comp, byte(r.ID)}
	return r.sum(append(b, r.Payload...))
}

// V2 serialises r as an unsigned MAVLink 2 frame (magic 0xFD).
func (r Raw) V2() []byte {
	b := []byte{0xFD, byte(len(r.Payload)), 0, 0, r.Seq, r.Sys, r.Comp, byte(r.ID), byte(r.ID >> 8), byte(r.ID >> 16)}
	return r.sum(append(b, r.Payload...))
}

// TlogEntry prefixes a serialised frame with its reception time, as a .tlog
// stores it: 8 bytes, big-endian microseconds since the Unix epoch.
func TlogEntry(at time.Time, frame []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(at.UnixMicro())), frame...)
}

// le writes little-endian fields in order.
type le []byte

func (b le) u8(v uint8) le   { return append(b, v) }
func (b le) u16(v uint16) le { return binary.LittleEndian.AppendUint16(b, v) }
func (b le) u32(v uint32) le { return binary.LittleEndian.AppendUint32(b, v) }

// HeartbeatPayload is HEARTBEAT (9 bytes) in wire order.
func HeartbeatPayload(mavType, autopilot, baseMode uint8, customMode uint32, systemStatus uint8) []byte {
	return le(nil).u32(customMode).u8(mavType).u8(autopilot).u8(baseMode).u8(systemStatus).u8(3)
}

// GlobalPositionIntPayload is GLOBAL_POSITION_INT (28 bytes): degrees×1e7, millimetres, cm/s, cdeg.
func GlobalPositionIntPayload(bootMS uint32, lat, lon, alt, relAlt int32, vx, vy, vz int16, hdg uint16) []byte {
	return le(nil).u32(bootMS).u32(uint32(lat)).u32(uint32(lon)).u32(uint32(alt)).u32(uint32(relAlt)).
		u16(uint16(vx)).u16(uint16(vy)).u16(uint16(vz)).u16(hdg)
}

// SysStatusPayload is SYS_STATUS: 31 base bytes (mV, cA, %), followed by
// the 12 bytes of its MAVLink 2 extensions when ext is true (43 bytes).
func SysStatusPayload(voltageMV uint16, currentCA int16, remaining int8, ext bool) []byte {
	b := le(nil).u32(0).u32(0).u32(0).u16(500).u16(voltageMV).u16(uint16(currentCA)).u16(0).u16(0).
		u16(0).u16(0).u16(0).u16(0).u8(uint8(remaining))
	if ext {
		b = b.u32(0).u32(0).u32(0)
	}
	return b
}

// BatteryStatusPayload is BATTERY_STATUS: 36 base bytes (cells in mV,
// UINT16_MAX for no cell; temperature in cdegC, INT16_MAX for none; current
// in cA, -1 unknown; remaining in %, -1 unknown), followed by its 18 bytes
// of extensions when ext is true (54 bytes).
func BatteryStatusPayload(id uint8, cellsMV []uint16, tempCdeg int16, currentCA int16, remaining int8, ext bool) []byte {
	b := le(nil).u32(0).u32(0).u16(uint16(tempCdeg))
	for i := range 10 {
		v := uint16(0xFFFF)
		if i < len(cellsMV) {
			v = cellsMV[i]
		}
		b = b.u16(v)
	}
	b = b.u16(uint16(currentCA)).u8(id).u8(0).u8(0).u8(uint8(remaining))
	if ext {
		b = b.u32(0).u8(0).u16(0).u16(0).u16(0).u16(0).u8(0).u32(0)
	}
	return b
}

// StatustextPayload is STATUSTEXT (51 base bytes: severity, 50 characters).
func StatustextPayload(severity uint8, text string) []byte {
	b := make([]byte, 51)
	b[0] = severity
	copy(b[1:], text)
	return b
}

// RadioStatusPayload is RADIO_STATUS (9 bytes), as a SiK radio sends it.
func RadioStatusPayload(rssi, remrssi, txbuf, noise, remnoise uint8, rxerrors, fixed uint16) []byte {
	return le(nil).u16(rxerrors).u16(fixed).u8(rssi).u8(remrssi).u8(txbuf).u8(noise).u8(remnoise)
}
