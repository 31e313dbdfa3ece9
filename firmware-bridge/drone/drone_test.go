package drone

import "testing"

func TestNames(t *testing.T) {
	if DeviceID(7) != "drone-7" || !Armed(128|1) || Armed(1) {
		t.Fatal("DeviceID/Armed")
	}
	for sev, want := range map[uint8]string{0: SeverityCritical, 2: SeverityCritical, 3: SeverityWarning, 4: SeverityWarning, 5: SeverityInfo, 7: SeverityInfo} {
		if got := SeverityOfMAV(sev); got != want {
			t.Errorf("SeverityOfMAV(%d) = %s, want %s", sev, got, want)
		}
	}
	for _, c := range []struct {
		ap, typ, base uint8
		custom        uint32
		want          string
	}{
		{AutopilotArduPilot, TypeQuadrotor, 1, CopterRTL, "RTL"},
		{AutopilotArduPilot, TypeHexarotor, 0, CopterLand, "LAND"}, // ArduPilot without the custom flag still means custom
		{AutopilotArduPilot, TypeFixedWing, 1, 10, "AUTO"},
		{AutopilotArduPilot, TypeGroundRover, 1, 4, "HOLD"},
		{AutopilotPX4, TypeQuadrotor, 1, 4<<16 | 4<<24, "AUTO_MISSION"},
		{AutopilotPX4, TypeQuadrotor, 1, 6 << 16, "OFFBOARD"},
		{AutopilotGeneric, TypeQuadrotor, 0x50, 0, "BASE_80"},
		{AutopilotArduPilot, TypeQuadrotor, 1, 1000, "MODE_1000"},
	} {
		if got := ModeName(c.ap, c.typ, c.base, c.custom); got != c.want {
			t.Errorf("ModeName(%d,%d,%d,%d) = %q, want %q", c.ap, c.typ, c.base, c.custom, got, c.want)
		}
	}
	if AutopilotName(12) != "px4" || TypeName(22) != "vtol" || TypeName(99) != "type_99" {
		t.Fatal("names")
	}
	var f Float
	f.Set(3)
	if !f.Valid || f.V != 3 {
		t.Fatal("Set")
	}
	f.Clear()
	if f.Valid {
		t.Fatal("Clear")
	}
}

func TestIsVehicleType(t *testing.T) {
	for typ, want := range map[uint8]bool{0: false, 1: true, 2: true, 5: false, 6: false, 10: true, 13: true, 18: false,
		20: true, 26: false, 27: false, 30: false, 43: true} {
		if IsVehicleType(typ) != want {
			t.Errorf("IsVehicleType(%d) = %v, want %v", typ, !want, want)
		}
	}
	if BatteryCellQuantity(1) != "battery_cell_1" || BatteryCellQuantity(MaxBatteryCells) != "battery_cell_14" {
		t.Fatal(BatteryCellQuantity(1), BatteryCellQuantity(MaxBatteryCells))
	}
}
