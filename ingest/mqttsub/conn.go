package mqttsub

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// paho reads each packet with several small reads straight from the socket
// (fixed header, length, body): three system calls per message. For tcp and
// TLS brokers the client dials itself and puts a read buffer in between, which
// turns a burst of messages into a few large reads. WebSocket URLs keep paho's
// own dialer.

func buffered(scheme string) bool {
	switch scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
		return true
	}
	return false
}

func dialBuffered(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
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
	return &bufConn{Conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}, nil
}

// bufConn is a net.Conn whose reads go through a buffer.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }
