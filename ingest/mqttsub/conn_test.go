package mqttsub

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// loopback returns a bufConn dialled to a TCP listener and the accepted end.
func loopback(t *testing.T) (*bufConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	t.Cleanup(func() { peer.Close() })
	return newBufConn(raw), peer
}

// TestBufConnKeepsWritesWholeAndInOrder: concurrent writers, each write a
// whole packet ⇒ the peer receives every packet intact, each writer's in
// order, and Close sends what is still pending.
func TestBufConnKeepsWritesWholeAndInOrder(t *testing.T) {
	c, peer := loopback(t)
	const writers, per = 4, 20000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if _, err := c.Write([]byte{0x40, 2, byte(w), byte(i >> 8), byte(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var b []byte
	select {
	case b = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("peer never saw EOF")
	}
	if len(b) != writers*per*5 {
		t.Fatalf("got %d bytes, want %d", len(b), writers*per*5)
	}
	next := make([]int, writers)
	for p := 0; p < len(b); p += 5 {
		w, i := int(b[p+2]), int(b[p+3])<<8|int(b[p+4])
		if b[p] != 0x40 || b[p+1] != 2 || w >= writers || i != next[w]&0xffff {
			t.Fatalf("packet %d: % x (writer %d expected seq %d)", p/5, b[p:p+5], w, next[w])
		}
		next[w]++
	}
	if _, err := c.Write([]byte{1}); err == nil {
		t.Fatal("write after Close succeeded")
	}
}

// TestDirectAck: a QoS 1 message is acked with a PUBACK for its id, once;
// QoS 0 messages and messages without a dialled connection are not wrapped.
func TestDirectAck(t *testing.T) {
	c, peer := loopback(t)
	m := wrap(testMessage{qos: 1, id: 0x1234}, c)
	m.Ack()
	m.Ack()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(peer)
	if want := []byte{0x40, 2, 0x12, 0x34}; !bytes.Equal(b, want) {
		t.Fatalf("sent % x, want % x", b, want)
	}
	if _, ok := wrap(testMessage{qos: 0}, c).(*directMessage); ok {
		t.Fatal("QoS 0 message wrapped")
	}
	if _, ok := wrap(testMessage{qos: 1}, nil).(*directMessage); ok {
		t.Fatal("message without connection wrapped")
	}
}

type testMessage struct {
	mqtt.Message
	qos byte
	id  uint16
}

func (m testMessage) Qos() byte         { return m.qos }
func (m testMessage) MessageID() uint16 { return m.id }
