package mqttsub

import (
	"strings"
	"sync/atomic"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Direct acknowledgements. paho's Message.Ack formats a store key, deletes
// it from the store under a lock, and sends the PUBACK through two
// unbuffered channels to the goroutine that writes it: three goroutine
// hand-offs per message. On the connections it dials itself (tcp, TLS) the
// client writes the 4-byte PUBACK straight into the coalescing writer of
// the connection the message came in on instead (directMessage), and keeps
// QoS 1 inbound publishes out of paho's store (inboundlessStore), which
// would otherwise hold them until a PUBACK sent through paho deletes them.
//
// Why this is safe with paho.mqtt.golang v1.5.1:
//   - every packet paho writes is one Write call (packets.*.Write), and
//     bufConn appends each Write whole under its lock: a PUBACK never lands
//     inside another packet;
//   - the message handler runs on paho's router, which paho stops and waits
//     for before it dials a new connection: the connection current when the
//     handler runs is the one the message came in on. A PUBACK for a message
//     of a connection that is gone fails on that closed connection and is
//     dropped — as paho drops it — and the broker redelivers the message;
//   - paho's resume discards inbound QoS 1 publishes found in the store on
//     reconnect, so not storing them changes nothing.

// directMessage is a received QoS 1 message acked straight on its connection.
type directMessage struct {
	mqtt.Message
	conn  *bufConn
	acked atomic.Bool
}

// Ack writes the PUBACK (once).
func (m *directMessage) Ack() {
	if m.acked.Swap(true) {
		return
	}
	id := m.MessageID()
	// A write error means the connection is gone: paho reconnects and the
	// broker redelivers the message.
	_, _ = m.conn.Write([]byte{packets.Puback << 4, 2, byte(id >> 8), byte(id)})
}

// wrap returns m acked directly on conn when it is a QoS 1 message on a
// connection this client dialled; otherwise m itself.
func wrap(m mqtt.Message, conn *bufConn) mqtt.Message {
	if conn == nil || m.Qos() != 1 {
		return m
	}
	return &directMessage{Message: m, conn: conn}
}

// inboundlessStore is paho's memory store without inbound QoS 1 publishes
// (keys "i.<id>"): they are acked by directMessage, never through paho.
type inboundlessStore struct {
	*mqtt.MemoryStore
}

func (s inboundlessStore) Put(key string, m packets.ControlPacket) {
	if p, ok := m.(*packets.PublishPacket); ok && p.Qos == 1 && strings.HasPrefix(key, "i.") {
		return
	}
	s.MemoryStore.Put(key, m)
}
