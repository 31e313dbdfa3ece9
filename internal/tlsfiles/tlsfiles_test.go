package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfig: a client trusting the CA file named in Files talks to a real
// TLS server; without it, it does not; errors name the configuration key.
func TestConfig(t *testing.T) {
	if c, err := (Files{CAKey: "x.ca"}).Config(); c != nil || err != nil {
		t.Fatalf("nothing asked: %v %v", c, err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(tc *tls.Config) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	tc, err := Files{CA: ca, CAKey: "mqtt.ca_file"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if tc.MinVersion != tls.VersionTLS12 || tc.RootCAs == nil {
		t.Fatalf("config %+v", tc)
	}
	if err := get(tc); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if err := get(&tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("the test server's certificate verified without its CA")
	}
	insecure, err := Files{InsecureSkipVerify: true}.Config()
	if err != nil || get(insecure) != nil {
		t.Fatalf("insecure: %v", err)
	}
	if tc, err := (Files{ServerName: "broker.example"}).Config(); err != nil || tc.ServerName != "broker.example" {
		t.Fatalf("server name: %+v %v", tc, err)
	}

	// A client certificate (the test server's own pair will do).
	der, err := x509.MarshalPKCS8PrivateKey(srv.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "key.pem")
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if tc, err := (Files{Cert: ca, Key: key, CertKey: "mqtt.cert_file"}).Config(); err != nil || len(tc.Certificates) != 1 {
		t.Fatalf("client certificate: %v", err)
	}

	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tc := range []struct {
		f    Files
		want string
	}{
		{Files{CA: filepath.Join(dir, "missing.pem"), CAKey: "influx.ca_file"}, "influx.ca_file: open "},
		{Files{CA: notPEM, CAKey: "broker.tls.ca"}, "broker.tls.ca: " + notPEM + " holds no PEM certificate"},
		{Files{Cert: ca, Key: notPEM, CertKey: "mqtt.cert_file"}, "mqtt.cert_file: "},
	} {
		if _, err := tc.f.Config(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q…", tc.f, err, tc.want)
		}
	}
}
