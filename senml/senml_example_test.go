package senml_test

import (
	"fmt"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/senml"
)

func ExampleReadings() {
	// Received on smartdeal/v1/nice/drone-3/telemetry.
	payload := []byte(`[{"bn":"nice:drone-3:","bt":1795775400,"n":"altitude","u":"m","v":120.5},
		{"n":"battery_remaining","u":"%EL","t":-2,"v":87},
		{"n":"mission","vs":"survey-12"}]`)
	now := time.Date(2026, 11, 27, 10, 30, 5, 0, time.UTC)
	rs, err := senml.Readings("nice", "drone-3", payload, now, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs {
		fmt.Println(r.Quantity, r.Number, r.Unit, r.Time.Format(time.TimeOnly), r.Mission)
	}

	// The same payload on another device's topic is refused.
	_, err = senml.Readings("nice", "drone-4", payload, now, nil)
	fmt.Println(err)
	// Output:
	// altitude 120.5 m 10:30:00 survey-12
	// battery_remaining 87 %EL 10:29:58 survey-12
	// senml record 0: name "nice:drone-3:altitude" is not under nice:drone-4: payload claims another site or device
}

func ExampleEncodeReadings() {
	t := time.Date(2026, 11, 27, 10, 30, 0, 250_000_000, time.UTC)
	rs := []smartdeal.Reading{
		{Site: "nice", Device: "gw1", Quantity: "temperature", Unit: "Cel", Time: t, Number: 21.5},
		{Site: "nice", Device: "gw1", Quantity: "relative_humidity", Unit: "%RH", Time: t.Add(5 * time.Second), Number: 48},
	}
	b, err := senml.EncodeReadings("nice", "gw1", rs)
	fmt.Println(string(b), err)
	// Output:
	// [{"bn":"nice:gw1:","bt":1795775400.25,"n":"temperature","u":"Cel","v":21.5},{"n":"relative_humidity","u":"%RH","t":5,"v":48}] <nil>
}
