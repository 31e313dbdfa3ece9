package telemetry

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

var now = time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

func number(q, unit string, v float64, at time.Time) smartdeal.Reading {
	return smartdeal.Reading{Site: "nice", Device: "gw-1", Quantity: q, Unit: unit, Time: at, Kind: smartdeal.KindNumber, Number: v}
}

// TestDecode: each case is decoded twice with one Decoder and one reused
// buffer, to catch state leaking from one message into the next.
func TestDecode(t *testing.T) {
	const topic = "smartdeal/v1/nice/gw-1/telemetry"
	var d Decoder
	var buf []smartdeal.Reading
	f := func(name, topic, payload, format string, want []smartdeal.Reading, wantErr error) {
		t.Helper()
		for round := range 2 {
			m, err := d.Decode(topic, []byte(payload), now, buf[:0])
			if m.Format != format {
				t.Errorf("%s (round %d): format %q, want %q", name, round, m.Format, format)
			}
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Errorf("%s (round %d): err %v, want %v", name, round, err, wantErr)
				}
				if len(m.Readings) != 0 {
					t.Errorf("%s (round %d): %d readings with an error", name, round, len(m.Readings))
				}
				continue
			}
			if err != nil {
				t.Errorf("%s (round %d): %v", name, round, err)
				continue
			}
			if m.Site != "nice" || m.Device != "gw-1" {
				t.Errorf("%s: identity %s/%s", name, m.Site, m.Device)
			}
			if !reflect.DeepEqual(m.Readings, want) {
				t.Errorf("%s (round %d):\n got %+v\nwant %+v", name, round, m.Readings, want)
			}
			buf = m.Readings
		}
	}
	at := time.Unix(1795775400, 0).UTC()
	f("senml", topic, `[{"bn":"nice:gw-1:","bt":1795775400,"n":"temperature","u":"Cel","v":21.5},{"n":"relative_humidity","u":"%RH","v":48}]`,
		FormatSenML, []smartdeal.Reading{number("temperature", "Cel", 21.5, at), number("relative_humidity", "%RH", 48, at)}, nil)
	f("senml with blanks first", topic, " \n\t[{\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.5}]", FormatSenML,
		[]smartdeal.Reading{number("temperature", "Cel", 21.5, now)}, nil)
	// What Telegraf's mqtt output publishes: its host tag is dropped.
	f("line protocol", topic, "temperature,host=rpi-7,unit=Cel value=21.5 1795775400000000000\nrelative_humidity,unit=%RH value=48 1795775400000000000\n",
		FormatLineProtocol, []smartdeal.Reading{number("temperature", "Cel", 21.5, at), number("relative_humidity", "%RH", 48, at)}, nil)
	f("line protocol without time", topic, "water_level,unit=m value=1.25", FormatLineProtocol,
		[]smartdeal.Reading{{Site: "nice", Device: "gw-1", Quantity: "water_level", Unit: "m", Time: now, Number: 1.25}}, nil)

	f("status channel", "smartdeal/v1/nice/gw-1/status", `[{"n":"temperature","v":1}]`, FormatUnknown, nil, smartdeal.ErrInvalidTopic)
	f("other prefix", "other/v1/nice/gw-1/telemetry", `[{"n":"temperature","v":1}]`, FormatUnknown, nil, smartdeal.ErrInvalidTopic)
	f("bad device id", "smartdeal/v1/nice/GW 1/telemetry", `[{"n":"temperature","v":1}]`, FormatUnknown, nil, smartdeal.ErrInvalidTopic)
	f("too large", topic, `[{"n":"x","vs":"`+strings.Repeat("a", DefaultMaxPayload)+`"}]`, FormatUnknown, nil, ErrTooLarge)
	f("empty", topic, "", FormatUnknown, nil, smartdeal.ErrMalformedPayload)
	f("blank", topic, " \n", FormatUnknown, nil, smartdeal.ErrMalformedPayload)
	f("broken json", topic, `[{"n":"temperature","v":1}`, FormatSenML, nil, smartdeal.ErrMalformedPayload)
	f("senml of another device", topic, `[{"bn":"nice:gw-2:","n":"temperature","v":1}]`, FormatSenML, nil, smartdeal.ErrIdentityMismatch)
	f("line protocol of another site", topic, "temperature,site=paris value=1", FormatLineProtocol, nil, smartdeal.ErrIdentityMismatch)
	f("line protocol comment only", topic, "# nothing\n", FormatLineProtocol, nil, smartdeal.ErrMalformedPayload)
	f("senml non-finite", topic, `[{"n":"temperature","v":1e999}]`, FormatSenML, nil, smartdeal.ErrInvalidValue)
	f("line protocol next year", topic, "temperature value=1 1827311400000000000", FormatLineProtocol, nil, smartdeal.ErrInvalidTime)
	f("senml bad quantity", topic, `[{"n":"Temperature","v":1}]`, FormatSenML, nil, smartdeal.ErrInvalidQuantity)
}

// TestDecodeReusesBuffer: readings are appended to dst, and dst comes back
// unchanged on error.
func TestDecodeReusesBuffer(t *testing.T) {
	var d Decoder
	buf := make([]smartdeal.Reading, 1, 8)
	buf[0] = number("kept", "", 1, now)
	m, err := d.Decode("smartdeal/v1/nice/gw-1/telemetry", []byte("temperature value=2"), now, buf)
	if err != nil || len(m.Readings) != 2 || m.Readings[0].Quantity != "kept" || &m.Readings[0] != &buf[0] {
		t.Fatalf("append: %v %+v", err, m.Readings)
	}
	m, err = d.Decode("smartdeal/v1/nice/gw-1/telemetry", []byte("temperature value=x"), now, buf)
	if err == nil || len(m.Readings) != 1 || &m.Readings[0] != &buf[0] {
		t.Fatalf("on error: %v %+v", err, m.Readings)
	}
}

// TestDecoderOptions: the prefix and the payload limit are the decoder's.
func TestDecoderOptions(t *testing.T) {
	d := Decoder{Topics: smartdeal.Topics{Prefix: "dept06/v2/"}, MaxPayload: 64}
	if m, err := d.Decode("dept06/v2/nice/gw-1/telemetry", []byte("temperature value=1"), now, nil); err != nil || len(m.Readings) != 1 {
		t.Fatalf("custom prefix: %v %+v", err, m)
	}
	if _, err := d.Decode("smartdeal/v1/nice/gw-1/telemetry", []byte("temperature value=1"), now, nil); !errors.Is(err, smartdeal.ErrInvalidTopic) {
		t.Fatalf("default prefix under a custom one: %v", err)
	}
	m, err := d.Decode("dept06/v2/nice/gw-1/telemetry", []byte("temperature value=1 "+strings.Repeat(" ", 64)), now, nil)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, smartdeal.ErrMalformedPayload) || m.Site != "nice" || m.Device != "gw-1" {
		t.Fatalf("over the limit: %v %+v", err, m)
	}
}

// TestTopicParts: a refused topic still names whichever of its site and
// device is a valid identifier, so that its dead letter is filed under it.
// (Moved from package ingest with the code.)
func TestTopicParts(t *testing.T) {
	var d Decoder
	for topic, want := range map[string]string{
		"smartdeal/v1/nice/Bad/telemetry":   "nice/",
		"smartdeal/v1/Bad/dev-1/telemetry":  "/dev-1",
		"other/v1/nice/dev/telemetry":       "/",
		"smartdeal/v1/nice/dev/x/telemetry": "nice/dev",
		"smartdeal/v1/nice/dev/status":      "nice/dev",
	} {
		m, err := d.Decode(topic, []byte("temperature value=1"), now, nil)
		if !errors.Is(err, smartdeal.ErrInvalidTopic) {
			t.Errorf("%s: err %v", topic, err)
		}
		if m.Site+"/"+m.Device != want {
			t.Errorf("%s: %s/%s, want %s", topic, m.Site, m.Device, want)
		}
	}
}
