package lineproto_test

import (
	"fmt"
	"time"

	"github.com/cd06/smartdeal/lineproto"
)

func ExampleReadings() {
	// What a Telegraf agent publishes on smartdeal/v1/nice/gw1/telemetry.
	payload := []byte("bme280,host=pi-4,site=nice temperature=21.5,pressure=101325i 1795775400000000000\n" +
		"water_level,unit=m value=1.25 1795775400000000000\n")
	fmt.Println(lineproto.Looks(payload))
	now := time.Date(2026, 11, 27, 10, 31, 0, 0, time.UTC) // time of reception
	rs, err := lineproto.Readings("nice", "gw1", payload, now, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs {
		fmt.Println(r.Quantity, r.Number, r.Unit, r.Time.Format(time.RFC3339))
	}
	// Output:
	// true
	// bme280_temperature 21.5  2026-11-27T10:30:00Z
	// bme280_pressure 101325  2026-11-27T10:30:00Z
	// water_level 1.25 m 2026-11-27T10:30:00Z
}
