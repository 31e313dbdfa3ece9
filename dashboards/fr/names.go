package fr

import "strings"

var quantityFR = map[string]string{
	"temperature": "Température", "relative_humidity": "Humidité relative", "pressure": "Pression",
	"pm1": "Particules PM1", "pm2_5": "Particules fines PM2,5", "pm10": "Particules PM10",
	"water_level": "Niveau d'eau", "latitude": "Latitude", "longitude": "Longitude",
	"altitude": "Altitude", "relative_altitude": "Hauteur", "battery_remaining": "Batterie restante",
	"wind_speed": "Vitesse du vent", "wind_direction": "Direction du vent", "rain": "Pluie",
	"co2": "Dioxyde de carbone (CO₂)", "no2": "Dioxyde d'azote (NO₂)", "o3": "Ozone (O₃)", "noise": "Bruit",
	"atmo_index": "Indice ATMO",
}

var unitFR = map[string]string{
	"Cel": "°C", "%RH": "%\u00a0HR", "ug/m3": "µg/m³", "%EL": "%", "lat": "°", "lon": "°", "m/s": "m/s",
	"ppm": "ppm", "dB": "dB", "hPa": "hPa", "Pa": "Pa", "m": "m", "mm": "mm", "%": "%", "V": "V", "A": "A",
}

// Quantity is a quantity's French name ("Température"), or the quantity
// with spaces for an unknown one.
func Quantity(q string) string {
	if n, ok := quantityFR[q]; ok {
		return n
	}
	return strings.ReplaceAll(q, "_", " ")
}

// Unit is a unit's French symbol ("°C"), or the unit as it is.
func Unit(u string) string {
	if n, ok := unitFR[u]; ok {
		return n
	}
	return u
}
