// Package tlsfiles builds the TLS client configuration of a connection from
// the PEM files a configuration names: the one helper the MQTT subscriber of
// the ingest, its InfluxDB store and the gateway's forwarder share.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Files names what a TLS client configuration is made of, and the
// configuration keys that name the files, for errors.
type Files struct {
	// CA is (optional) a PEM bundle of the certificate authorities to trust;
	// empty means the system's.
	CA string
	// Cert and Key are (optional, both or neither) the client's certificate
	// and key, for mutual TLS.
	Cert, Key string
	// ServerName is (optional) the name to verify in the server's
	// certificate, when it is not the host of the URL.
	ServerName string
	// InsecureSkipVerify disables certificate checks (tests only).
	InsecureSkipVerify bool

	// CAKey and CertKey are the configuration keys of CA and Cert, which
	// errors name ("mqtt.ca_file", "broker.tls.ca").
	CAKey, CertKey string
}

// Config returns the TLS configuration f asks for: TLS 1.2 or later, the CA
// bundle as the roots, the client certificate. It returns nil when f asks
// for nothing, so that the client library keeps its default (which for a
// TLS URL is Go's: TLS 1.2 or later, the system's roots).
func (f Files) Config() (*tls.Config, error) {
	if f.CA == "" && f.Cert == "" && f.ServerName == "" && !f.InsecureSkipVerify {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName, InsecureSkipVerify: f.InsecureSkipVerify} //nolint:gosec // opt-in, tests only
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.CAKey, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate", f.CAKey, f.CA)
		}
		tc.RootCAs = pool
	}
	if f.Cert != "" {
		pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.CertKey, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}
