package api

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// MosquittoIterations is the PBKDF2 iteration count mosquitto_passwd uses by default.
const MosquittoIterations = 101

// MosquittoHash returns a Mosquitto 2.x password hash in the format
// mosquitto_passwd writes: "$7$<iterations>$<base64 salt>$<base64 key>", where
// the key is PBKDF2-HMAC-SHA512 of the password over a 12-byte salt, 64 bytes
// long, and base64 is the standard alphabet with padding.
func MosquittoHash(password string, iterations int) (string, error) {
	salt := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return mosquittoHashSalt(password, salt, iterations)
}

func mosquittoHashSalt(password string, salt []byte, iterations int) (string, error) {
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, 64)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	enc := base64.StdEncoding
	return "$7$" + strconv.Itoa(iterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// VerifyMosquittoHash checks a password against a "$7$" hash.
func VerifyMosquittoHash(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[1] != "7" {
		return false
	}
	it, err := strconv.Atoi(parts[2])
	if err != nil || it <= 0 {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		return false
	}
	got, err := mosquittoHashSalt(password, salt, it)
	return err == nil && got == hash
}

// Credentials is the answer of a provisioning: the password appears once.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// PasswordFileLine goes into Mosquitto's password_file.
	PasswordFileLine string `json:"password_file_line"`
	// ACL is the block for Mosquitto's acl_file: the device may write only its
	// own telemetry, status and event topics and read its cmd topic; a gateway
	// may do so for every device of its site (it forwards for them).
	ACL      string `json:"acl"`
	MQTTHost string `json:"mqtt_host,omitempty"`
}

// DeviceACL returns the Mosquitto ACL block for a device.
func DeviceACL(t smartdeal.Topics, d *civic.Device) string {
	dev := d.ID
	if d.Kind == civic.DeviceGateway {
		dev = "+"
	}
	var b strings.Builder
	b.WriteString("user " + d.ID + "\n")
	for _, ch := range []string{smartdeal.ChannelTelemetry, smartdeal.ChannelStatus, smartdeal.ChannelEvent} {
		b.WriteString("topic write " + t.Device(d.SiteID, dev, ch) + "\n")
	}
	b.WriteString("topic read " + t.Device(d.SiteID, dev, smartdeal.ChannelCmd) + "\n")
	return b.String()
}
