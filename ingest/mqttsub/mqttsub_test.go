package mqttsub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal/internal/testenv"
)

// writeCA creates a CA and a server certificate for 127.0.0.1 in dir.
func writeCA(t *testing.T, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(file, typ string, b []byte) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write(name+"-ca.pem", "CERTIFICATE", caDER), write(name+"-cert.pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", keyDER)
}

type received struct{ ch chan mqtt.Message }

func (r received) handle(m mqtt.Message) { r.ch <- m }

// TestTLSSharedSubscription: over TLS, with the CA from ca_file, the client
// subscribes through the shared subscription, receives with the DUP flag off,
// acks, and publishes at QoS 1. With another CA it never becomes ready.
func TestTLSSharedSubscription(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCA(t, dir, "broker")
	otherCA, _, _ := writeCA(t, dir, "other")
	tlsPort := testenv.FreePort(t)
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{
		Extra: fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n", tlsPort, ca, cert, key),
	})

	cfg := DefaultConfig()
	cfg.URL = fmt.Sprintf("ssl://127.0.0.1:%d", tlsPort)
	cfg.ClientID = "tls-ingest"
	cfg.CAFile = ca
	r := received{ch: make(chan mqtt.Message, 10)}
	c, err := New(cfg, nil, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close(100 * time.Millisecond)
	testenv.Eventually(t, 5*time.Second, func() bool { return c.Ready(ctx) == nil }, "not subscribed: %v", c.Ready(ctx))

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("tls-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	if tok := pub.Publish("smartdeal/v1/nice/station/telemetry", 1, false, "hello"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case m := <-r.ch:
		if m.Topic() != "smartdeal/v1/nice/station/telemetry" || string(m.Payload()) != "hello" || m.Duplicate() {
			t.Fatalf("got %s %q dup=%v", m.Topic(), m.Payload(), m.Duplicate())
		}
		m.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("message not delivered over TLS")
	}
	if err := c.Publish(ctx, "smartdeal/v1/deadletter/nice/station", []byte("{}")); err != nil {
		t.Fatal(err)
	}

	bad := cfg
	bad.ClientID, bad.CAFile = "tls-wrong-ca", otherCA
	c2, err := New(bad, nil, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	if err := c2.Connect(sctx); err == nil {
		t.Fatal("connected although the broker's certificate is from another CA")
	}
	if err := c2.Ready(sctx); err == nil {
		t.Fatal("ready without a connection")
	}
	c2.Close(0)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.URL = "127.0.0.1:1883" }, "mqtt.url"},
		{func(c *Config) { c.URL = "http://127.0.0.1:1883" }, "mqtt.url"},
		{func(c *Config) { c.ClientID = "" }, "mqtt.client_id"},
		{func(c *Config) { c.Group = "a/b" }, "mqtt.group"},
		{func(c *Config) { c.TopicPrefix = "smartdeal/#" }, "mqtt.topic_prefix"},
		{func(c *Config) { c.CertFile = "/x.pem" }, "mqtt.cert_file"},
		{func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "mqtt.ca_file"},
		{func(c *Config) { c.KeepAlive = 0 }, "mqtt.keep_alive"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.mod(&c)
		if err := c.Validate("mqtt"); err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
			t.Errorf("err = %v, want one naming %s", err, tt.want)
		}
	}
	c := DefaultConfig()
	if got := c.Filter(); got != "$share/ingest/smartdeal/v1/+/+/telemetry" {
		t.Fatalf("filter %s", got)
	}
	c.Shared = false
	if got := c.Filter(); got != "smartdeal/v1/+/+/telemetry" {
		t.Fatalf("filter %s", got)
	}
}
