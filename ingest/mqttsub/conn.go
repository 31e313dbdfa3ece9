package mqttsub

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// paho reads each packet with several small reads straight from the socket
// (fixed header, length, body), and writes each packet — every PUBACK — with
// its own system call. For tcp and TLS brokers the client dials itself and
// puts a read buffer and a coalescing writer in between: a burst of messages
// becomes a few large reads, and a batch's thousands of PUBACKs a few large
// writes. WebSocket URLs keep paho's own dialer.

func buffered(scheme string) bool {
	switch scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
		return true
	}
	return false
}

func dialBuffered(uri *url.URL, o mqtt.ClientOptions) (*bufConn, error) {
	d := &net.Dialer{Timeout: o.ConnectTimeout}
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		conn, err = d.Dial("tcp", uri.Host)
	case "ssl", "tls", "mqtts":
		tc := o.TLSConfig
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		conn, err = tls.DialWithDialer(d, "tcp", uri.Host, tc)
	default:
		return nil, fmt.Errorf("mqtt dial: unsupported scheme %q", uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return newBufConn(conn), nil
}

const (
	// readBuffer is the size of the read buffer under paho.
	readBuffer = 64 << 10
	// readPace is how long a read waits for more data to arrive when the
	// previous one found less than half a buffer: the live trickle of
	// messages is then read, handed through paho's goroutines and the
	// pipeline in bursts, instead of waking every goroutine of the chain
	// once per message. It adds at most this much latency to a message
	// that already waits up to ingest.flush_interval in a batch.
	readPace = 2 * time.Millisecond
	// maxPending bounds the bytes written but not yet sent: a writer blocks
	// beyond it (a PUBACK is 4 bytes: 256 KiB is 65,536 of them).
	maxPending = 256 << 10
	// closeFlushTimeout bounds how long Close waits to send what is pending.
	closeFlushTimeout = 2 * time.Second
)

// bufConn is a net.Conn whose reads go through a buffer and whose writes
// are coalesced: Write appends to a pending buffer and returns; one flusher
// goroutine sends everything pending with one write whenever it is idle, so
// packets written while it is busy go out together. Ordering is kept. A
// failed send closes the connection (paho's reader then sees the error and
// reconnects) and is returned by every later Write. Close sends what is
// pending first. Delivery semantics do not change: a PUBACK that never
// reaches the broker leaves the message unacked there, exactly as a PUBACK
// lost with a dropped connection would, and the broker redelivers it.
type bufConn struct {
	net.Conn
	r *bufio.Reader

	mu      sync.Mutex
	cond    sync.Cond // signalled when pending shrinks or the flusher stops
	pending []byte
	writing bool  // the flusher holds bytes taken from pending and not yet written
	err     error // sticky send error
	closed  bool
	kick    chan struct{}
	stopped chan struct{}
}

func newBufConn(conn net.Conn) *bufConn {
	c := &bufConn{
		Conn:    conn,
		r:       bufio.NewReaderSize(&pacedReader{r: conn}, readBuffer),
		pending: make([]byte, 0, 4<<10),
		kick:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	c.cond.L = &c.mu
	go c.flushLoop()
	return c
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// pacedReader is the socket under the read buffer: after a read that found
// less than half a buffer (the sender is slower than us), it waits readPace
// before the next one, so that one read takes what arrived meanwhile.
type pacedReader struct {
	r    net.Conn
	last int
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.last < len(b)/2 {
		time.Sleep(readPace)
	}
	n, err := p.r.Read(b)
	p.last = n
	return n, err
}

func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for c.err == nil && !c.closed && len(c.pending) > 0 && len(c.pending)+len(p) > maxPending {
		c.cond.Wait()
	}
	switch {
	case c.err != nil:
		err := c.err
		c.mu.Unlock()
		return 0, err
	case c.closed:
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.pending = append(c.pending, p...)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default: // the flusher is already due to look
	}
	return len(p), nil
}

// flushLoop sends what is pending until the connection is closed and
// nothing is left, or a send fails.
func (c *bufConn) flushLoop() {
	defer close(c.stopped)
	var out []byte
	for range c.kick {
		for {
			c.mu.Lock()
			out, c.pending = c.pending, out[:0]
			closed := c.closed
			c.writing = len(out) > 0
			c.cond.Broadcast()
			c.mu.Unlock()
			if len(out) == 0 {
				if closed {
					return
				}
				break
			}
			_, err := c.Conn.Write(out)
			c.mu.Lock()
			c.writing = false
			if err != nil {
				c.err = err
			}
			c.cond.Broadcast()
			c.mu.Unlock()
			if err != nil {
				_ = c.Conn.Close()
				return
			}
		}
	}
}

// Close sends what is pending (for at most closeFlushTimeout), then closes
// the connection. paho writes DISCONNECT and closes right after.
// Flush waits until every byte written so far is on the socket (or the
// connection failed, or timeout passed): graceful shutdown acks the last batch
// and must not disconnect before those PUBACKs are out.
func (c *bufConn) Flush(timeout time.Duration) error {
	done := make(chan struct{})
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		close(done)
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && (len(c.pending) > 0 || c.writing) {
		select {
		case <-done:
			return fmt.Errorf("mqtt flush: %d bytes still pending after %s", len(c.pending), timeout)
		default:
		}
		c.cond.Wait()
	}
	return c.err
}

func (c *bufConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.Conn.Close()
	}
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
	select {
	case <-c.stopped:
	case <-time.After(closeFlushTimeout + 100*time.Millisecond):
	}
	return c.Conn.Close()
}
