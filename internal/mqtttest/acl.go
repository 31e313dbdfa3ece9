package mqtttest

import (
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

var clientSeq atomic.Int64

// Connect connects a client with user and password (both may be empty:
// anonymous) and returns the connection error. The client is disconnected
// when the test ends.
func Connect(t testing.TB, url, user, password string) (mqtt.Client, error) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).
		SetClientID("acl-" + strconv.FormatInt(clientSeq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)).
		SetUsername(user).SetPassword(password).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).SetConnectRetry(false))
	tok := c.Connect()
	if !tok.WaitTimeout(6 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c, nil
}

// Account is a broker user name and password.
type Account struct{ User, Password string }

// DeviceACLCase is what CheckDeviceACL checks on one broker: Device
// publishes on its own Topic and is accepted; Other (another device's
// credentials) publishing on that topic, Device with a wrong password and an
// anonymous client are refused. Watcher is an account that may read Topic.
type DeviceACLCase struct {
	URL     string
	Topic   string
	Device  Account
	Other   Account
	Watcher Account
}

// CheckDeviceACL runs the case. A refused publish either never reaches the
// watcher (Mosquitto drops it silently) or costs the connection (mochi
// disconnects a client whose QoS 1 publish its ACL denies).
func CheckDeviceACL(t testing.TB, c DeviceACLCase) {
	t.Helper()
	watch, err := Connect(t, c.URL, c.Watcher.User, c.Watcher.Password)
	if err != nil {
		t.Fatalf("watcher %s: %v", c.Watcher.User, err)
	}
	got := make(chan string, 16)
	if tok := watch.Subscribe(c.Topic, 1, func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher subscribe: %v", tok.Error())
	}
	if _, err := Connect(t, c.URL, "", ""); err == nil {
		t.Error("anonymous client accepted")
	}
	if _, err := Connect(t, c.URL, c.Device.User, c.Device.Password+"x"); err == nil {
		t.Error("wrong password accepted")
	}
	if _, err := Connect(t, c.URL, "+", c.Device.Password); err == nil {
		t.Error(`user "+" accepted`)
	}
	other, err := Connect(t, c.URL, c.Other.User, c.Other.Password)
	if err != nil {
		t.Fatalf("other device %s with its own credentials: %v", c.Other.User, err)
	}
	other.Publish(c.Topic, 1, false, "forged").WaitTimeout(3 * time.Second)
	dev, err := Connect(t, c.URL, c.Device.User, c.Device.Password)
	if err != nil {
		t.Fatalf("device %s with its credentials: %v", c.Device.User, err)
	}
	if tok := dev.Publish(c.Topic, 1, false, "genuine"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("device publish: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "genuine" {
			t.Fatalf("the broker let %s publish on %s: %q", c.Other.User, c.Topic, p)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the device's own publish on %s never arrived", c.Topic)
	}
	select {
	case p := <-got:
		t.Fatalf("unexpected message %q on %s", p, c.Topic)
	case <-time.After(300 * time.Millisecond):
	}
}
