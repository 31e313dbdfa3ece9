// mission.js: the mission control pages' map features, as an ES module on
// the global L (Leaflet, loaded before it) and map.js's createMap:
//   - on the plan form (#carte-zone), drawing the mission's area by
//     clicking its vertices (or, from the keyboard, adding the map's
//     centre); the polygon's GeoJSON goes into the hidden field
//     #zone-dessinee, which the form posts (the pasted GeoJSON and the file
//     remain the fallback without JavaScript);
//   - on a mission page (#carte-mission), the area, the flown track and,
//     for a mission in flight, the drone moved live by createMap;
//   - the live panel (#suivi): altitude, speed, battery and its cells, link
//     quality, flight mode, from one EventSource on the drone's series
//     (site/drone/*), a "signal perdu" notice when nothing comes for
//     LOST_AFTER ms, and opt-in announcements for screen readers.
// Text is only ever written with textContent; no element gets a style
// attribute (the pages' CSP).

import { createMap } from "./map.js";

const LOST_AFTER = 10000; // ms without a reading: the bridge's link timeout (5 s) plus its slowest group (5 s)
const SAY_EVERY = 30000; // ms between two announcements of the values (the signal is said at once)
const num = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2, useGrouping: false });
const clock = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const EVENTS = { vehicle_seen: "Drone détecté", armed: "Moteurs armés", disarmed: "Moteurs désarmés", mode_changed: "Changement de mode de vol",
  statustext: "Message du drone", low_battery: "Batterie faible", cmd_result: "Réponse à une commande" };
const SEVERITY = { critical: "critique", warning: "avertissement", info: "information" };
const DEPARTEMENT = { lat: 43.93, lon: 7.15, zoom: 9 };

const $ = (id) => document.getElementById(id);
const baseMapURL = () => { const c = $("carte-config"); return c ? c.dataset.basemap : ""; };

function baseLayer(map, url) {
  map.attributionControl.addAttribution("Contours des communes : IGN Admin Express (Licence Ouverte)");
  if (!url) return;
  fetch(url).then((r) => (r.ok ? r.json() : null)).then((g) => {
    if (!g) return;
    const base = L.geoJSON(g, { interactive: false, style: () => ({ className: "fond-commune" }) });
    base.addTo(map);
    base.bringToBack();
  }).catch(() => {});
}

// ringOf reads the outer ring of a GeoJSON Polygon as [lat, lon] vertices
// (the closing position dropped); [] when it is not one.
function ringOf(text) {
  try {
    const g = JSON.parse(text);
    const geom = g && g.type === "Feature" ? g.geometry : g;
    if (!geom || geom.type !== "Polygon" || !Array.isArray(geom.coordinates[0])) return [];
    const ring = geom.coordinates[0].filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])).map((p) => [p[1], p[0]]);
    if (ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1]) ring.pop();
    return ring;
  } catch (e) {
    return [];
  }
}

// drawArea makes the plan form's map: each click (or "Ajouter le centre")
// adds a vertex; from three on, the field holds a closed GeoJSON Polygon.
export function drawArea(container, field, buttons, status) {
  const still = typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
  const map = L.map(container, { keyboard: true, minZoom: 7, maxZoom: 18, zoomControl: false, fadeAnimation: !still, zoomAnimation: !still });
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  container.classList.add("carte-hors-ligne");
  container.setAttribute("role", "region");
  container.setAttribute("aria-label", "Carte de dessin de la zone de la mission");
  baseLayer(map, baseMapURL());
  let vertices = ringOf(field.value);
  const shape = L.polygon([], { className: "zone" }).addTo(map);
  const points = L.layerGroup().addTo(map);
  const update = () => {
    shape.setLatLngs(vertices);
    points.clearLayers();
    vertices.forEach((v, i) => points.addLayer(L.circleMarker(v, { radius: 5, className: "sommet", interactive: false })));
    if (vertices.length >= 3) {
      const ring = vertices.map(([lat, lon]) => [Number(lon.toFixed(6)), Number(lat.toFixed(6))]);
      ring.push(ring[0]);
      field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    } else {
      field.value = "";
    }
    container.dataset.sommets = String(vertices.length);
    const n = vertices.length;
    status.textContent = n === 0 ? "Aucun sommet posé." :
      n < 3 ? n + (n > 1 ? " sommets posés" : " sommet posé") + " : il en faut au moins 3 pour former la zone." :
      n + " sommets posés : la zone est prête (elle sera envoyée avec le formulaire).";
  };
  const add = (ll) => { vertices.push([ll.lat, ll.lng]); update(); };
  map.on("click", (ev) => add(ev.latlng));
  buttons.centre.addEventListener("click", () => add(map.getCenter()));
  buttons.annuler.addEventListener("click", () => { vertices.pop(); update(); });
  buttons.effacer.addEventListener("click", () => { vertices = []; update(); });
  if (vertices.length >= 3) map.fitBounds(L.latLngBounds(vertices), { padding: [20, 20] });
  else map.setView([DEPARTEMENT.lat, DEPARTEMENT.lon], DEPARTEMENT.zoom);
  update();
  container.dataset.pret = "oui";
  return { map, add: (lat, lon) => add(L.latLng(lat, lon)), count: () => vertices.length };
}

// missionMap draws the mission page's map with createMap: the area, the
// track (GeoJSON of the track route) and, in flight, the drone at its last
// fix (moved by createMap from the live feed).
async function missionMap(container, live) {
  let area = null;
  try { area = JSON.parse(container.dataset.area); } catch (e) { area = null; }
  const mission = live ? live.dataset.mission : "";
  const features = [];
  if (area) features.push({ type: "Feature", id: "zone", geometry: area, properties: { kind: "area", mission, title: "Zone prévue" } });
  let last = null;
  if (container.dataset.track) {
    try {
      const r = await fetch(container.dataset.track, { credentials: "same-origin" });
      const t = r.ok ? await r.json() : null;
      const cs = t && t.geometry && t.geometry.coordinates;
      if (cs && cs.length) {
        features.push({ type: "Feature", id: "trace", geometry: t.geometry, properties: { kind: "track", mission, title: "Trace du drone", distance_m: t.properties.distance_m } });
        last = cs[cs.length - 1];
      }
    } catch (e) { /* the page's table and drawing still say it */ }
  }
  const ring = area ? ringOf(JSON.stringify(area)) : [];
  const drones = [];
  if (live) {
    const at = last || (ring.length ? [ring[0][1], ring[0][0]] : [DEPARTEMENT.lon, DEPARTEMENT.lat]);
    drones.push({ site: live.dataset.site, device: live.dataset.drone, mission, lat: at[1], lon: at[0] });
  }
  const controls = document.createElement("form");
  controls.hidden = true; // the public map's filters mean nothing here
  container.after(controls);
  const m = createMap(container, { version: 1, missions: { type: "FeatureCollection", features }, drones }, { baseMap: baseMapURL(), controls, live: live ? undefined : null, legendPresent: true });
  container.setAttribute("aria-label", "Carte de la mission");
  // createMap keeps the public map's view and filters in the fragment; a
  // mission page's address stays the mission's (after createMap's handler).
  const clean = () => { if (location.hash) history.replaceState(null, "", location.pathname + location.search); };
  m.map.on("moveend", clean);
  if (ring.length >= 3) m.map.fitBounds(L.latLngBounds(ring), { padding: [20, 20], maxZoom: 15 });
  clean();
  return m;
}

// livePanel keeps the #suivi panel current from the live feed.
export function livePanel(panel) {
  const dd = (q) => panel.querySelector('[data-q="' + q + '"]');
  const state = $("suivi-etat"), lost = $("signal"), speak = $("suivi-annonces"), region = $("suivi-annonce"), events = $("evenements");
  const values = {}, cells = new Map();
  let lastAt = 0, isLost = false, lastSaid = 0, pendingSay = 0, firstEvent = true;
  const speaking = () => speak.getAttribute("aria-pressed") === "true";
  const say = (text, now) => {
    if (!speaking()) return;
    if (now) { region.textContent = text; return; }
    const wait = SAY_EVERY - (Date.now() - lastSaid);
    if (pendingSay) return;
    pendingSay = setTimeout(() => {
      pendingSay = 0;
      lastSaid = Date.now();
      if (speaking()) region.textContent = summary();
    }, Math.max(0, wait));
  };
  const summary = () => ["Altitude " + (dd("altitude").textContent), "batterie " + dd("battery_remaining").textContent,
    "liaison " + dd("link_quality").textContent, "mode " + dd("flight_mode").textContent].join(", ") + ".";
  const logEvent = (text, t) => {
    if (firstEvent) { events.textContent = ""; firstEvent = false; }
    const li = document.createElement("li");
    const time = document.createElement("time");
    time.dateTime = new Date(t).toISOString();
    time.textContent = clock.format(t);
    li.append(time, " — " + text);
    events.prepend(li);
    while (events.children.length > 20) events.lastChild.remove();
  };
  const set = (q, text) => { const e = dd(q); if (e) e.textContent = text; };
  const onReading = (d, t) => {
    const q = d.quantity;
    if (typeof d.value === "number") values[q] = d.value;
    switch (true) {
      case q === "latitude" || q === "longitude":
        if (values.latitude !== undefined && values.longitude !== undefined) set("position", num.format(values.latitude) + ", " + num.format(values.longitude));
        break;
      case q === "relative_altitude": set("altitude", num.format(d.value) + "\u00a0m (au-dessus du décollage)"); break;
      case q === "altitude": if (values.relative_altitude === undefined) set("altitude", num.format(d.value) + "\u00a0m"); break;
      case q === "ground_speed": set("ground_speed", num.format(d.value) + "\u00a0m/s (" + num.format(d.value * 3.6) + "\u00a0km/h)"); break;
      case q === "battery_remaining": set("battery_remaining", num.format(d.value) + "\u00a0%"); break;
      case q === "battery_voltage": set("battery_voltage", num.format(d.value) + "\u00a0V"); break;
      case /^battery_cell_\d+$/.test(q): {
        cells.set(Number(q.slice(13)), d.value);
        const list = [...cells].sort((a, b) => a[0] - b[0]).map(([i, v]) => "cellule " + i + " : " + num.format(v) + "\u00a0V");
        set("battery_cell", list.join(", "));
        break;
      }
      case q === "link_quality": set("link_quality", num.format(d.value * 100) + "\u00a0% des trames reçues"); break;
      case q === "flight_mode":
        if (typeof d.text === "string" && d.text !== dd("flight_mode").textContent) {
          set("flight_mode", d.text);
          say("Mode de vol : " + d.text, true);
        }
        break;
      case q === "armed":
        if (typeof d.bool === "boolean") {
          const w = d.bool ? "oui" : "non";
          set("armed", w);
        }
        break;
      default:
        return;
    }
    say("", false);
  };
  const url = "/api/v1/live?series=" + encodeURIComponent(panel.dataset.series);
  let es = null;
  const open = () => {
    es = new EventSource(url);
    es.addEventListener("open", () => { state.textContent = "En direct : les valeurs se mettent à jour seules."; });
    es.addEventListener("reading", (ev) => {
      let d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      if (!d || typeof d.quantity !== "string" || typeof d.time !== "string") return;
      const t = Date.parse(d.time);
      if (isNaN(t)) return;
      if (d.quantity === "event") { onEvent(d, t); return; }
      lastAt = Date.now();
      if (isLost) regained();
      state.textContent = "En direct : dernière donnée reçue à " + clock.format(t) + ".";
      onReading(d, t);
    });
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) state.textContent = "Direct interrompu : rechargez la page.";
      else state.textContent = "Direct interrompu : reconnexion…";
    });
  };
  const lose = (why) => {
    isLost = true;
    lost.hidden = false;
    panel.dataset.signal = "perdu";
    logEvent("Signal perdu" + (why ? " : " + why : ""), Date.now());
    say("Signal perdu : aucune donnée du drone.", true);
  };
  const regained = () => {
    isLost = false;
    lost.hidden = true;
    panel.dataset.signal = "ok";
    logEvent("Signal rétabli", Date.now());
    say("Signal rétabli.", true);
  };
  // The bridge's events (link_lost, statustext…): the feed's series
  // site/drone/event. The bridge says link_lost itself; the timer below
  // covers a bridge that is gone too.
  const onEvent = (d, t) => {
    const type = String(d.event || "");
    if (type === "link_lost") { if (!isLost) lose("liaison radio coupée (passerelle)"); return; }
    if (type === "link_regained") { lastAt = Date.now(); if (isLost) regained(); return; }
    const label = EVENTS[type] || "Événement " + type;
    const sev = SEVERITY[d.severity] ? " (" + SEVERITY[d.severity] + ")" : "";
    logEvent(label + sev + (d.text ? " : " + d.text : ""), t);
    if (d.severity === "critical" || d.severity === "warning") say(label + sev + (d.text ? " : " + d.text : ""), true);
  };
  setInterval(() => {
    if (!lastAt) lastAt = Date.now(); // from the opening: a drone that never spoke is lost too
    if (!isLost && Date.now() - lastAt > LOST_AFTER) lose("aucune donnée depuis plus de 10 secondes");
  }, 1000);
  speak.hidden = false;
  speak.addEventListener("click", () => {
    const on = !speaking();
    speak.setAttribute("aria-pressed", on ? "true" : "false");
    region.textContent = on ? "Annonces activées : " + summary() : "Annonces désactivées.";
  });
  if (typeof EventSource === "function") open();
  panel.dataset.pret = "oui";
  return { close: () => es && es.close() };
}

// The page's parts, if present.
const zone = $("carte-zone");
if (zone) {
  $("dessin").hidden = false;
  drawArea(zone, $("zone-dessinee"), { centre: $("dessin-centre"), annuler: $("dessin-annuler"), effacer: $("dessin-effacer") }, $("dessin-etat"));
}
const panel = $("suivi");
const carte = $("carte-mission");
if (carte) missionMap(carte, panel);
if (panel) livePanel(panel);
