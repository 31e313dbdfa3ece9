package lineproto

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

var now = time.Date(2026, 11, 27, 10, 30, 0, 123456789, time.UTC)

// ts is a nanosecond timestamp one minute before now.
const ts = "1795775340123456789"

var tsTime = time.Unix(0, 1795775340123456789).UTC()

func num(q, unit string, t time.Time, v float64) smartdeal.Reading {
	return smartdeal.Reading{Site: "nice", Device: "gw1", Quantity: q, Unit: unit, Time: t, Kind: smartdeal.KindNumber, Number: v}
}

// TestReadings decodes each input twice into a dst that already holds a
// reading: the reading must survive, on success and on error.
func TestReadings(t *testing.T) {
	kept := smartdeal.Reading{Quantity: "kept"}
	f := func(name, in string, want []smartdeal.Reading, wantErr error) {
		t.Helper()
		for pass := range 2 {
			dst := []smartdeal.Reading{kept}
			got, err := Readings("nice", "gw1", []byte(in), now, dst)
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Errorf("%s pass %d: error %v, want %v", name, pass, err, wantErr)
				}
				if len(got) != 1 || &got[0] != &dst[0] {
					t.Errorf("%s: dst changed on error: %+v", name, got)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s pass %d: %v", name, pass, err)
				continue
			}
			if got[0] != kept {
				t.Errorf("%s: dst[0] clobbered", name)
			}
			if !reflect.DeepEqual(got[1:], want) {
				t.Errorf("%s pass %d:\n got %+v\nwant %+v", name, pass, got[1:], want)
			}
		}
	}
	nowNs := now // no timestamp: reception time, nanoseconds kept

	f("value field", "temperature,unit=Cel value=21.5 "+ts, []smartdeal.Reading{num("temperature", "Cel", tsTime, 21.5)}, nil)
	f("no timestamp", "temperature value=21.5", []smartdeal.Reading{num("temperature", "", nowNs, 21.5)}, nil)
	f("telegraf style", "bme280,host=gw1,site=nice,device=gw1 temperature=21.5,humidity=40.25,pressure=101325i "+ts,
		[]smartdeal.Reading{num("bme280_temperature", "", tsTime, 21.5), num("bme280_humidity", "", tsTime, 40.25), num("bme280_pressure", "", tsTime, 101325)}, nil)
	f("value and other fields", "pm,unit=ug/m3 value=7.5,count=3u "+ts,
		[]smartdeal.Reading{num("pm", "ug/m3", tsTime, 7.5), num("pm_count", "ug/m3", tsTime, 3)}, nil)
	f("kinds", `status label="Vallon des \"Fleurs\"",open=t,closed=FALSE,n=-3i,u=4u `+ts,
		[]smartdeal.Reading{
			{Site: "nice", Device: "gw1", Quantity: "status_label", Time: tsTime, Kind: smartdeal.KindString, Text: `Vallon des "Fleurs"`},
			{Site: "nice", Device: "gw1", Quantity: "status_open", Time: tsTime, Kind: smartdeal.KindBool, Bool: true},
			{Site: "nice", Device: "gw1", Quantity: "status_closed", Time: tsTime, Kind: smartdeal.KindBool},
			num("status_n", "", tsTime, -3), num("status_u", "", tsTime, 4),
		}, nil)
	f("mission tag", "altitude,mission=survey-12,unit=m value=120 "+ts,
		[]smartdeal.Reading{{Site: "nice", Device: "gw1", Quantity: "altitude", Unit: "m", Time: tsTime, Number: 120, Mission: "survey-12"}}, nil)
	f("multiple lines, comments, blank lines, CRLF", "# Telegraf\n\ntemperature value=1 "+ts+"\r\n  \n# more\npressure value=2\n",
		[]smartdeal.Reading{num("temperature", "", tsTime, 1), num("pressure", "", nowNs, 2)}, nil)
	f("tags do not carry over lines", "temperature,unit=Cel value=1 "+ts+"\ntemperature value=2 "+ts,
		[]smartdeal.Reading{num("temperature", "Cel", tsTime, 1), num("temperature", "", tsTime, 2)}, nil)
	f("escaped tag value dropped", `temperature,room=salle\ des\,\=fêtes value=1 `+ts, []smartdeal.Reading{num("temperature", "", tsTime, 1)}, nil)
	f("2^53 is exact", "counter value=9007199254740992i "+ts, []smartdeal.Reading{num("counter", "", tsTime, 9007199254740992)}, nil)
	f("-2^53 is exact", "counter value=-9007199254740992i "+ts, []smartdeal.Reading{num("counter", "", tsTime, -9007199254740992)}, nil)
	f("9 minutes ahead", "t value=1 1795775940123456789", []smartdeal.Reading{num("t", "", time.Unix(0, 1795775940123456789).UTC(), 1)}, nil)

	// Identity.
	f("other site", "temperature,site=cannes value=1", nil, smartdeal.ErrIdentityMismatch)
	f("other device", "temperature,device=gw2 value=1", nil, smartdeal.ErrIdentityMismatch)
	f("other device on the second line", "temperature value=1\ntemperature,device=gw2 value=1", nil, smartdeal.ErrIdentityMismatch)
	f("empty device tag", `temperature,device=\  value=1`, nil, smartdeal.ErrIdentityMismatch)

	// Quantities: no silent rewriting.
	f("capitals", "Temperature value=1", nil, smartdeal.ErrMalformedPayload)
	f("capital field", "bme280 Humidity=1", nil, smartdeal.ErrMalformedPayload)
	f("dash", "temp-1 value=1", nil, smartdeal.ErrMalformedPayload)
	f("dotted field", "cpu usage.idle=1", nil, smartdeal.ErrMalformedPayload)
	f("escaped space in the measurement", `temp\ erature value=1`, nil, smartdeal.ErrMalformedPayload)
	f("too long", strings.Repeat("a", 60)+" abcd=1", nil, smartdeal.ErrMalformedPayload)
	f("repeated field", "m a=1,a=2", nil, smartdeal.ErrMalformedPayload)
	f("unit tag repeated", "temperature,unit=Cel,unit=K value=1", nil, smartdeal.ErrMalformedPayload)
	f("site tag repeated", "temperature,site=nice,site=nice value=1", nil, smartdeal.ErrMalformedPayload)
	f("value repeated as field", "m value=1,value=2", nil, smartdeal.ErrMalformedPayload)

	// Values.
	f("NaN", "temperature value=NaN", nil, smartdeal.ErrMalformedPayload)
	f("nan", "temperature value=nan", nil, smartdeal.ErrMalformedPayload)
	f("inf", "temperature value=+Inf", nil, smartdeal.ErrMalformedPayload)
	f("float overflow", "temperature value=1e400", nil, smartdeal.ErrInvalidValue)
	f("int overflow", "counter value=9223372036854775808i", nil, smartdeal.ErrInvalidValue)
	f("uint overflow", "counter value=18446744073709551616u", nil, smartdeal.ErrInvalidValue)
	f("int not exact", "counter value=9007199254740993i", nil, smartdeal.ErrInvalidValue)
	f("negative int not exact", "counter value=-9007199254740993i", nil, smartdeal.ErrInvalidValue)
	f("uint not exact", "counter value=9007199254740993u", nil, smartdeal.ErrInvalidValue)
	f("string too long", `status label="`+strings.Repeat("a", smartdeal.MaxTextLen+1)+`"`, nil, smartdeal.ErrInvalidValue)
	f("unterminated string", `status label="abc`, nil, smartdeal.ErrMalformedPayload)
	f("bad escape in a string", "status label=\"a\\\nb", nil, smartdeal.ErrMalformedPayload)
	f("bad bool", "status open=yes", nil, smartdeal.ErrMalformedPayload)
	f("invalid UTF-8", "status label=\"\xff\"", nil, smartdeal.ErrMalformedPayload)
	f("bad unit", `temperature,unit=a"b value=1`, nil, smartdeal.ErrInvalidValue)
	f("bad mission", "temperature,mission=Survey value=1", nil, smartdeal.ErrInvalidID)

	// Structure.
	f("measurement only", "temperature", nil, smartdeal.ErrMalformedPayload)
	f("tags only", "temperature,unit=Cel", nil, smartdeal.ErrMalformedPayload)
	f("no field", "temperature ", nil, smartdeal.ErrMalformedPayload)
	f("field without value", "temperature value=", nil, smartdeal.ErrMalformedPayload)
	f("tag without value", "temperature,unit value=1", nil, smartdeal.ErrMalformedPayload)
	f("trailing backslash", `temperature\`, nil, smartdeal.ErrMalformedPayload)
	f("empty", "", nil, smartdeal.ErrMalformedPayload)
	f("comments only", "# nothing\n\n", nil, smartdeal.ErrMalformedPayload)
	f("second line broken", "temperature value=1\npressure", nil, smartdeal.ErrMalformedPayload)
	f("SenML given to the wrong decoder", `[{"n":"temperature","v":1}]`, nil, smartdeal.ErrMalformedPayload)

	// Time.
	f("bad timestamp", "temperature value=1 12:00", nil, smartdeal.ErrMalformedPayload)
	f("text after timestamp", "temperature value=1 "+ts+" x", nil, smartdeal.ErrMalformedPayload)
	f("timestamp out of range", "temperature value=1 99999999999999999999", nil, smartdeal.ErrInvalidTime)
	f("1970", "temperature value=1 0", nil, smartdeal.ErrInvalidTime)
	f("seconds mistaken for nanoseconds", "temperature value=1 1795775340", nil, smartdeal.ErrInvalidTime)
	f("11 minutes ahead", "temperature value=1 1795776060123456790", nil, smartdeal.ErrInvalidTime)
}

func TestReadingsBadIDs(t *testing.T) {
	if _, err := Readings("Nice", "gw1", []byte("t value=1"), now, nil); !errors.Is(err, smartdeal.ErrInvalidID) {
		t.Errorf("site: %v", err)
	}
	if _, err := Readings("nice", "gw/1", []byte("t value=1"), now, nil); !errors.Is(err, smartdeal.ErrInvalidID) {
		t.Errorf("device: %v", err)
	}
}

func TestReadingsErrorNamesTheEntry(t *testing.T) {
	_, err := Readings("nice", "gw1", []byte("# c\na value=1\nb value=2\nC value=3\n"), now, nil)
	if err == nil || !strings.Contains(err.Error(), "entry 3") {
		t.Errorf("error %v, want it to name entry 3", err)
	}
	_, err = Readings("nice", "gw1", []byte("a value=1\nb value=\n"), now, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v, want it to name line 2", err)
	}
}

func TestLooks(t *testing.T) {
	for in, want := range map[string]bool{
		"temperature value=1":           true,
		"# comment\nt value=1":          true,
		"  \n\tt value=1":               true,
		`[{"n":"a","v":1}]`:             false,
		" \r\n [{\"n\":\"a\",\"v\":1}]": false,
		`{"n":"a"}`:                     false,
		"":                              false,
		" \n ":                          false,
	} {
		if got := Looks([]byte(in)); got != want {
			t.Errorf("Looks(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzReadings: no panic, errors wrap a sentinel, accepted readings validate
// and decode the same way twice.
//
//	go test -run=NONE -fuzz=FuzzReadings -fuzztime=30s ./lineproto
func FuzzReadings(f *testing.F) {
	for _, s := range []string{
		"temperature,unit=Cel value=21.5 " + ts,
		"bme280,host=gw1,site=nice,device=gw1 temperature=21.5,humidity=40.25,pressure=101325i " + ts,
		`status label="Vallon des \"Fleurs\"",open=t,n=-3i,u=4u ` + ts,
		"# Telegraf\n\ntemperature value=1 " + ts + "\r\n  \n# more\npressure value=2\n",
		`temperature,room=salle\ des\,\=fêtes,mission=survey-12 value=1 ` + ts,
		"counter value=9007199254740993i", "temperature value=1e400", "temperature,site=cannes value=1",
		`[{"n":"temperature","v":1}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Readings("nice", "gw1", data, now, nil)
		if err != nil {
			if !errors.Is(err, smartdeal.ErrMalformedPayload) && !errors.Is(err, smartdeal.ErrInvalidValue) &&
				!errors.Is(err, smartdeal.ErrInvalidTime) && !errors.Is(err, smartdeal.ErrIdentityMismatch) &&
				!errors.Is(err, smartdeal.ErrInvalidID) && !errors.Is(err, smartdeal.ErrInvalidQuantity) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if rs != nil {
				t.Fatalf("readings on error")
			}
			return
		}
		if len(rs) == 0 {
			t.Fatalf("no readings and no error")
		}
		for i, r := range rs {
			if err := r.Validate(now); err != nil {
				t.Fatalf("reading %d: %v", i, err)
			}
		}
		again, err := Readings("nice", "gw1", data, now, nil)
		if err != nil || !reflect.DeepEqual(again, rs) {
			t.Fatalf("second decode differs: %v", err)
		}
	})
}
