package ingestd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal/cmd/internal/ingestd"
	"github.com/cd06/smartdeal/ingest/ingesttest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestShippedACL runs the ingest against a Mosquitto using the ACL shipped
// in deploy/mosquitto: the ingest authenticates and reads through the shared
// subscription, a device writes its own telemetry and nothing else, and
// a gateway account writes for the devices of its site only, and dead letters
// go out under the ingest's account.
func TestShippedACL(t *testing.T) {
	acl, err := filepath.Abs("../../../deploy/mosquitto/smartdeal.acl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "passwd")
	if err := os.WriteFile(pw, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, up := range [][2]string{{"ingest", "ingest-pw"}, {"nice/station-1", "dev-pw"}, {"nice", "gw-pw"}, {"operator", "op-pw"}} {
		if out, err := exec.Command("mosquitto_passwd", "-b", pw, up[0], up[1]).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd (from the mosquitto package): %v: %s", err, out)
		}
	}
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{
		Extra: "allow_anonymous false\npassword_file " + pw + "\nacl_file " + acl + "\n",
	})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)

	connect := func(user, pass string) mqtt.Client {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID(user + "-test").
			SetUsername(user).SetPassword(pass).SetCleanSession(true))
		tok := c.Connect()
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect %s: %v", user, tok.Error())
		}
		t.Cleanup(func() { c.Disconnect(100) })
		return c
	}
	// Anonymous and wrong passwords are refused.
	bad := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("intruder").SetUsername("ingest").SetPassword("nope"))
	if tok := bad.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		t.Fatal("wrong password accepted")
	}

	op := connect("operator", "op-pw")
	var dls = make(chan string, 10)
	if tok := op.Subscribe("smartdeal/v1/deadletter/#", 1, func(_ mqtt.Client, m mqtt.Message) { dls <- m.Topic() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	r := start(t, broker.URL(), in.URL, db, "ingest-acl", func(c *ingestd.Config) {
		c.MQTT.Username, c.MQTT.Password = "ingest", "ingest-pw"
	})
	dev := connect("nice/station-1", "dev-pw")
	mqtttest.Publish(t, dev, "smartdeal/v1/nice/station-1/telemetry", ingesttest.SenML(0))
	// Denied by the ACL: Mosquitto acks and drops it.
	mqtttest.Publish(t, dev, "smartdeal/v1/nice/station-2/telemetry", ingesttest.SenML(1))
	mqtttest.Publish(t, dev, "smartdeal/v1/paris/station-1/telemetry", ingesttest.SenML(2))
	mqtttest.Publish(t, dev, "smartdeal/v1/nice/station-1/telemetry", []byte("not telemetry"))
	mqtttest.Publish(t, dev, "smartdeal/v1/nice/station-1/telemetry", ingesttest.SenML(3))
	// A gateway account, named after its site, publishes for every device of
	// its site and for no other site.
	gw := connect("nice", "gw-pw")
	mqtttest.Publish(t, gw, "smartdeal/v1/nice/station-2/telemetry", ingesttest.SenML(10))
	mqtttest.Publish(t, gw, "smartdeal/v1/paris/station-9/telemetry", ingesttest.SenML(20))
	testenv.Eventually(t, 20*time.Second, func() bool { return ingesttest.SeqStats(t, in, db).Count >= 3 }, "device telemetry not stored")
	if s := ingesttest.SeqStats(t, in, db); s.Count != 3 || s.Sum != 13 {
		t.Fatalf("stored %+v, want only the device's own messages 0 and 3 and the gateway's 10", s)
	}
	select {
	case topic := <-dls:
		if topic != "smartdeal/v1/deadletter/nice/station-1" {
			t.Fatalf("dead letter on %s", topic)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no dead letter: the ingest account cannot publish them?")
	}
	if err := r.app.BrokerReady(t.Context()); err != nil {
		t.Fatal(err)
	}
}
