// map.js: the public map of SMART Deal (proposals, sensors, missions, live
// drones) on Leaflet 1.9, as an ES module without a build step. Leaflet and
// Leaflet.markercluster are loaded before it (classic scripts: the global L).
// It reads the map document defined in docs/map.md, builds the layers, the
// filters and the legend, keeps the view, the layers and the filters in the
// URL's fragment, and moves drones from the live feed (/api/v1/live).
//
// Every text from the data is written with textContent, never as HTML; no
// element gets a style attribute (the pages' CSP forbids them): colours
// come from classes in map.css.

const STATUS = {
  submitted: "En attente de modération", published: "Publiée", shortlisted: "Présélectionnée",
  under_review: "En cours d'expertise", selected: "Retenue", rejected: "Non retenue",
  in_progress: "En réalisation", done: "Réalisée", refused: "Refusée", archived: "Archivée",
};
const DEVICE_STATE = { online: "En ligne", offline: "Hors ligne", unknown: "État inconnu" };
const ATMO = ["", "Bon", "Moyen", "Dégradé", "Mauvais", "Très mauvais", "Extrêmement mauvais"];
const MISSION_STATUS = { planned: "Prévue", active: "En vol", completed: "Terminée", aborted: "Interrompue", cancelled: "Annulée" };
const LAYERS = { proposals: "Propositions", sensors: "Capteurs", missions: "Missions (zones et vols)", drones: "Drones en vol", alerts: "Alertes actives" };
const DEFAULT_LINKS = { proposal: "/idees/{id}", mission: "/missions/{id}", site: "/sites/{id}", device: "/sites/{site}/appareils/{id}", alert: "/alertes/{id}" };
// The vigilance levels of the alerts layer: a glyph and a word beside the colour.
const SEVERITY = { jaune: ["▲", "Vigilance jaune"], orange: ["▲▲", "Vigilance orange"], rouge: ["▲▲▲", "Vigilance rouge"] };
const num = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });
const when = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", dateStyle: "long", timeStyle: "short" });

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const link = (tpl, id, text, site) => {
  const a = el("a", "", text);
  a.href = tpl.replace("{id}", encodeURIComponent(id)).replace("{site}", encodeURIComponent(site || ""));
  return a;
};
const safeClass = (s) => String(s || "").replace(/[^a-z0-9_-]/gi, "");

// deviceState is a sensor's state word key: its registry status when it is
// one we know, else unknown.
const deviceState = (s) => (s === "online" || s === "offline" ? s : "unknown");

// readHash reads the fragment: v=lat,lon,zoom, layers=a,b, and the filters.
function readHash() {
  const out = {};
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  const v = (h.get("v") || "").split(",").map(Number);
  if (v.length === 3 && v.every(Number.isFinite) && Math.abs(v[0]) <= 90 && Math.abs(v[1]) <= 180 && v[2] >= 0 && v[2] <= 22) {
    out.view = { lat: v[0], lon: v[1], zoom: Math.round(v[2]) };
  }
  if (h.has("couches")) out.layers = h.get("couches").split(",").filter((l) => l in LAYERS);
  for (const k of ["campagne", "theme", "statut", "grandeur"]) if (h.get(k)) out[k] = h.get(k);
  return out;
}

// createMap draws the map document data in the element container; options
// (all optional):
//   controls   element the filters and layer switches go into (default: a
//              <form> inserted before the map)
//   legend     element the legend goes into (default: after the map)
//   tiles      {url, attribution, maxZoom}: a raster tile server; without
//              it the embedded base map (baseMap URL) is drawn
//   baseMap    URL of the base map GeoJSON (default none)
//   live       URL of the live feed (default "/api/v1/live"; null: off)
//   links      URL templates {proposal, mission, site, device} with {id} (and {site} for a device)
//   cluster    clustering on (default true when L.markerClusterGroup is there)
//   view       {lat, lon, zoom} when the URL has none (default the département)
//   hash       false: neither read nor write the URL's fragment
//   legendPresent  true: the legend explains only what the data has (a
//              mission page's map has no proposals nor sensors)
// It returns {map, counts(), setFilter(name, value), setLayer(name, on), close()};
// the container carries the counts shown per layer as data-proposals,
// data-sensors, data-missions and data-drones, and data-pret="oui" once drawn.
export function createMap(container, data, options = {}) {
  const links = Object.assign({}, DEFAULT_LINKS, options.links || {});
  const state = Object.assign({ layers: Object.keys(LAYERS), campagne: "", theme: "", statut: "", grandeur: "" }, options.hash === false ? {} : readHash());
  const view = state.view || options.view || { lat: 43.93, lon: 7.15, zoom: 9 };
  const maxZoom = options.tiles ? options.tiles.maxZoom || 19 : 16;
  // Visitors who asked for less motion get no fades and no zoom animations.
  const still = typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
  const map = L.map(container, { keyboard: true, maxZoom, minZoom: 7, zoomControl: true, attributionControl: true,
    fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still });
  map.setView([view.lat, view.lon], view.zoom);
  container.setAttribute("aria-label", "Carte des propositions, capteurs et missions");
  container.setAttribute("role", "region");

  // Base: a raster tile server when configured, else the shipped outlines.
  if (options.tiles && options.tiles.url) {
    L.tileLayer(options.tiles.url, { attribution: options.tiles.attribution || "", maxZoom }).addTo(map);
  } else {
    container.classList.add("carte-hors-ligne");
    map.attributionControl.addAttribution("Contours des communes : IGN Admin Express (Licence Ouverte)");
    if (options.baseMap) {
      fetch(options.baseMap).then((r) => (r.ok ? r.json() : null)).then((g) => {
        if (!g) return;
        const base = L.geoJSON(g, { interactive: false, style: () => ({ className: "fond-commune" }) });
        base.addTo(map);
        base.bringToBack();
      }).catch(() => {});
    }
  }

  const useCluster = options.cluster !== false && typeof L.markerClusterGroup === "function";
  // A cluster is a marker too (Tab, then Enter zooms in or spreads it);
  // its text says what it is, not only a number.
  const clusterIcon = (c) => {
    const n = c.getChildCount();
    const size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    return L.divIcon({ className: "marker-cluster marker-cluster-" + size, iconSize: [40, 40],
      html: "<div><span>" + n + "<span class=\"hors-ecran\"> repères regroupés, Entrée pour les déplier</span></span></div>" });
  };
  const group = () => (useCluster ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, iconCreateFunction: clusterIcon }) : L.layerGroup());
  // The alerts layer exists when the document has alerts (a signed-in
  // reader of the alerts: the page leaves them out for anyone else).
  const hasAlerts = Array.isArray(data.alerts);
  const layers = { proposals: group(), sensors: group(), missions: L.featureGroup(), drones: L.layerGroup() };
  const items = { proposals: [], sensors: [], missions: [], drones: [] };
  if (hasAlerts) { layers.alerts = L.layerGroup(); items.alerts = []; }

  const themes = new Map((data.themes || []).map((t, i) => [t.id, { name: t.name, n: i + 1 }]));
  const campaigns = new Map((data.campaigns || []).map((c) => [c.id, c.name]));

  const icon = (cls, glyph) => L.divIcon({ className: "repere " + cls, html: "<span aria-hidden=\"true\">" + glyph + "</span>", iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -12] });
  // A marker reachable with Tab whose Enter opens its popup (Leaflet's
  // keyboard option), named for screen readers.
  const marker = (latlng, ic, label, popup) => {
    const m = L.marker(latlng, { icon: ic, keyboard: true, title: label, alt: label, riseOnHover: true });
    m.bindPopup(popup);
    m.on("add", () => {
      const e = m.getElement();
      if (e) { e.setAttribute("aria-label", label); e.setAttribute("role", "button"); }
    });
    return m;
  };

  for (const f of (data.proposals && data.proposals.features) || []) {
    const p = f.properties || {};
    const [lon, lat] = f.geometry.coordinates;
    const th = themes.get(p.theme) || { name: p.theme, n: "?" };
    const status = STATUS[p.status] || p.status;
    const box = el("div", "bulle");
    box.append(el("p", "bulle-type", "Proposition"));
    const h = el("p", "bulle-titre");
    h.append(link(links.proposal, f.id, p.title));
    box.append(h, el("p", "", th.name), el("p", "", "Statut : " + status), el("p", "", p.votes + (p.votes > 1 ? " soutiens" : " soutien")));
    const m = marker([lat, lon], icon("proposition statut-" + safeClass(p.status), String(th.n)), "Proposition, thème " + th.n + " : " + p.title + " (" + status + ")", box);
    items.proposals.push({ m, p });
  }

  for (const f of (data.sensors && data.sensors.features) || []) {
    const p = f.properties || {};
    const [lon, lat] = f.geometry.coordinates;
    const st = deviceState(p.status);
    const atmo = p.atmo >= 1 && p.atmo <= 6 ? p.atmo : 0;
    const box = el("div", "bulle");
    box.append(el("p", "bulle-type", "Capteur"));
    const h = el("p", "bulle-titre");
    h.append(link(links.device, f.id, f.id, p.site));
    box.append(h);
    const s = el("p", "", "Site : ");
    s.append(link(links.site, p.site, p.site_name || p.site));
    box.append(s, el("p", "", DEVICE_STATE[st] + (p.last_seen ? " (vu le " + when.format(new Date(p.last_seen)) + ")" : "")));
    if (atmo) box.append(el("p", "", "Indice ATMO : " + atmo + " — " + ATMO[atmo]));
    const ul = el("ul", "valeurs");
    for (const v of p.latest || []) {
      // The document's names for quantities and units when it has them.
      const q = (data.quantities && data.quantities[v.quantity]) || v.quantity, u = (data.units && data.units[v.unit]) || v.unit;
      ul.append(el("li", "", q + " : " + num.format(v.value) + (u ? "\u00a0" + u : "") + " (" + when.format(new Date(v.time)) + ")"));
    }
    if (ul.children.length) box.append(ul); else box.append(el("p", "", "Aucune valeur récente."));
    const cls = "capteur etat-" + st + (atmo ? " atmo-" + atmo : "");
    const glyph = atmo ? String(atmo) : st === "online" ? "✓" : st === "offline" ? "✕" : "?";
    const label = "Capteur " + f.id + " : " + DEVICE_STATE[st] + (atmo ? ", indice ATMO " + atmo + " : " + ATMO[atmo] : "");
    items.sensors.push({ m: marker([lat, lon], icon(cls, glyph), label, box), p });
  }

  for (const f of (data.missions && data.missions.features) || []) {
    const p = f.properties || {};
    const box = el("div", "bulle");
    box.append(el("p", "bulle-type", p.kind === "track" ? "Vol de drone" : "Zone de mission"));
    const h = el("p", "bulle-titre");
    h.append(link(links.mission, p.mission, p.title || p.mission));
    box.append(h, el("p", "", "Statut : " + (MISSION_STATUS[p.status] || p.status)));
    if (p.kind === "track" && p.distance_m !== undefined) box.append(el("p", "", "Distance : " + num.format(p.distance_m / 1000) + " km"));
    const shape = L.geoJSON(f, { style: () => ({ className: p.kind === "track" ? "vol" : "zone" }) });
    shape.bindPopup(box);
    items.missions.push({ m: shape, p });
  }

  // Drones: the last known position of each drone in flight, moved by the
  // live feed's latitude and longitude readings (two events per fix).
  const drones = new Map();
  for (const d of data.drones || []) {
    const key = d.site + "/" + d.device;
    const box = el("div", "bulle");
    box.append(el("p", "bulle-type", "Drone en vol"), el("p", "bulle-titre", d.device));
    if (d.mission) { const p = el("p", "", "Mission : "); p.append(link(links.mission, d.mission, d.mission_title || d.mission)); box.append(p); }
    const pos = el("p", "position", "");
    box.append(pos);
    const m = marker([d.lat, d.lon], icon("drone", "✈"), "Drone " + d.device + " en vol", box);
    const trail = L.polyline([[d.lat, d.lon]], { className: "trace-directe", interactive: false });
    const dr = { m, trail, pos, lat: d.lat, lon: d.lon, time: d.time ? Date.parse(d.time) : 0, pending: {} };
    m.on("add", () => { const e = m.getElement(); if (e) { e.dataset.lat = String(dr.lat); e.dataset.lon = String(dr.lon); e.dataset.drone = key; } });
    drones.set(key, dr);
    items.drones.push({ m, trail, d });
  }

  for (const a of data.alerts || []) {
    const [glyph, word] = SEVERITY[a.severity] || ["!", a.level || a.severity];
    const box = el("div", "bulle");
    box.append(el("p", "bulle-type", "Alerte active — " + (a.level || word)));
    const h = el("p", "bulle-titre");
    h.append(link(links.alert || DEFAULT_LINKS.alert, a.id, a.rule || a.id));
    box.append(h, el("p", "", "Site " + a.site + (a.device ? ", appareil " + a.device : "")), el("p", "", a.what || ""), el("p", "", "Depuis le " + (a.fired || "")));
    const m = marker([a.lat, a.lon], icon("alerte alerte-" + safeClass(a.severity), glyph), "Alerte " + (a.level || word) + " : " + (a.rule || a.id) + ", site " + a.site, box);
    m.on("add", () => { const e = m.getElement(); if (e) e.dataset.alerte = a.id; });
    items.alerts.push({ m, a });
  }

  const visible = {
    proposals: ({ p }) => (!state.campagne || p.campaign === state.campagne) && (!state.theme || p.theme === state.theme) && (!state.statut || p.status === state.statut),
    sensors: ({ p }) => !state.grandeur || (p.quantities || []).includes(state.grandeur),
    missions: () => true,
    drones: () => true,
    alerts: () => true,
  };

  const render = () => {
    for (const name of Object.keys(layers)) {
      const lg = layers[name];
      lg.clearLayers();
      const on = state.layers.includes(name);
      if (on) {
        const shown = items[name].filter(visible[name]);
        if (useCluster && lg.addLayers) lg.addLayers(shown.map((i) => i.m)); else for (const i of shown) lg.addLayer(i.m);
        if (name === "drones") for (const i of shown) lg.addLayer(i.trail);
        if (!map.hasLayer(lg)) lg.addTo(map);
      } else if (map.hasLayer(lg)) {
        map.removeLayer(lg);
      }
    }
    status.textContent = summary();
    // The counts, for tests and for the page's text alternative.
    const c = counts();
    for (const name of Object.keys(c)) container.dataset[name] = String(c[name]);
  };

  const counts = () => {
    const out = {};
    for (const name of Object.keys(layers)) out[name] = state.layers.includes(name) ? items[name].filter(visible[name]).length : 0;
    return out;
  };
  const summary = () => {
    const c = counts();
    // French: 0 and 1 take the singular.
    const n = (k, one, many) => k + " " + (k > 1 ? many : one);
    return "Affichés : " + n(c.proposals, "proposition", "propositions") + ", " + n(c.sensors, "capteur", "capteurs") + ", " +
      n(c.missions, "zone ou vol", "zones et vols") + ", " + n(c.drones, "drone en vol", "drones en vol") +
      (hasAlerts ? ", " + n(c.alerts, "alerte active", "alertes actives") : "") + ".";
  };

  // The URL keeps the view, the layers and the filters (replaceState: the
  // back button leaves the page rather than walking through every pan).
  const writeHash = () => {
    if (options.hash === false) return; // a map inside a form: the URL is the page's
    const c = map.getCenter();
    const h = new URLSearchParams();
    h.set("v", c.lat.toFixed(5) + "," + c.lng.toFixed(5) + "," + map.getZoom());
    if (state.layers.length !== Object.keys(LAYERS).length) h.set("couches", state.layers.join(","));
    for (const k of ["campagne", "theme", "statut", "grandeur"]) if (state[k]) h.set(k, state[k]);
    history.replaceState(null, "", "#" + h.toString().replace(/%2C/g, ","));
  };
  map.on("moveend", writeHash);

  // Controls: a real form (labels, fieldset), outside the map.
  const form = options.controls || el("form");
  form.classList.add("carte-filtres");
  form.setAttribute("aria-label", "Filtres de la carte");
  form.addEventListener("submit", (ev) => ev.preventDefault());
  const layerSet = el("fieldset", "carte-couches");
  layerSet.append(el("legend", "", "Couches affichées"));
  const boxes = {};
  for (const [name, label] of Object.entries(LAYERS)) {
    if (!(name in layers)) continue;
    const id = "couche-" + name;
    const lb = el("label", "");
    const cb = el("input");
    cb.type = "checkbox"; cb.id = id; cb.name = "couche"; cb.value = name; cb.checked = state.layers.includes(name);
    cb.addEventListener("change", () => api.setLayer(name, cb.checked));
    boxes[name] = cb;
    lb.append(cb, " " + label);
    layerSet.append(lb);
  }
  form.append(layerSet);
  const selects = {};
  const select = (key, label, opts) => {
    const id = "filtre-" + key;
    const wrap = el("p", "carte-filtre");
    const lb = el("label", "", label);
    lb.htmlFor = id;
    const s = el("select");
    s.id = id; s.name = key;
    s.append(new Option("Toutes", ""));
    for (const [v, t] of opts) s.append(new Option(t, v));
    s.value = state[key];
    if (s.value !== state[key]) state[key] = ""; // a value the data does not have (an old or edited link)
    s.addEventListener("change", () => api.setFilter(key, s.value));
    selects[key] = s;
    wrap.append(lb, s);
    form.append(wrap);
  };
  select("campagne", "Campagne", [...campaigns]);
  select("theme", "Thème", [...themes].map(([id, t]) => [id, t.n + ". " + t.name]));
  const statuses = [...new Set(items.proposals.map((i) => i.p.status))];
  select("statut", "Statut des propositions", statuses.map((s) => [s, STATUS[s] || s]));
  const quantities = [...new Set(items.sensors.flatMap((i) => i.p.quantities || []))].sort();
  select("grandeur", "Grandeur mesurée par les capteurs", quantities.map((q) => [q, (data.quantities && data.quantities[q]) || q]));
  const status = el("p", "carte-resume");
  status.setAttribute("role", "status");
  form.append(status);
  if (!options.controls) container.before(form);

  // Legend: a word for every colour and symbol.
  const legend = options.legend || el("section", "carte-legende");
  const lh = el("h2", "", "Légende");
  legend.append(lh);
  const entry = (list, cls, glyph, word) => {
    const li = el("li", "");
    const sym = el("span", "repere " + cls);
    sym.setAttribute("aria-hidden", "true");
    sym.append(el("span", "", glyph));
    li.append(sym, " " + word);
    list.append(li);
  };
  const part = (title, fill) => {
    legend.append(el("h3", "", title));
    const ul = el("ul", "legende-liste");
    fill(ul);
    legend.append(ul);
  };
  const has = (layer, kind) => !options.legendPresent || items[layer].some((i) => !kind || (i.p.kind === "track") === (kind === "track"));
  if (has("proposals")) part("Propositions (le chiffre est celui du thème)", (ul) => {
    for (const s of statuses) entry(ul, "proposition statut-" + safeClass(s), "", STATUS[s] || s);
    for (const [, t] of themes) entry(ul, "proposition", String(t.n), t.name);
  });
  if (has("sensors")) part("Capteurs", (ul) => {
    for (const s of ["online", "offline", "unknown"]) entry(ul, "capteur etat-" + s, s === "online" ? "✓" : s === "offline" ? "✕" : "?", DEVICE_STATE[s]);
    for (let i = 1; i <= 6; i++) entry(ul, "capteur atmo-" + i, String(i), "Indice ATMO " + i + " : " + ATMO[i]);
  });
  if (has("missions") || has("drones")) part("Missions", (ul) => {
    if (has("missions", "area")) entry(ul, "legende-zone", "", "Zone survolée par une mission");
    if (has("missions", "track")) entry(ul, "legende-vol", "", "Vol d'un drone (trace enregistrée)");
    if (has("drones")) entry(ul, "drone", "✈", "Drone en vol (position en direct)");
  });
  if (hasAlerts) part("Alertes actives", (ul) => { for (const s of Object.keys(SEVERITY)) entry(ul, "alerte alerte-" + s, SEVERITY[s][0], SEVERITY[s][1]); });
  if (!options.legend) container.after(legend);

  // Live drones.
  let es = null;
  const move = (dr, t) => {
    const ll = [dr.lat, dr.lon];
    dr.m.setLatLng(ll);
    dr.trail.addLatLng(ll);
    const e = dr.m.getElement();
    if (e) { e.dataset.lat = String(dr.lat); e.dataset.lon = String(dr.lon); }
    dr.pos.textContent = "Position : " + num.format(dr.lat) + ", " + num.format(dr.lon) + " (" + when.format(new Date(t)) + ")";
  };
  const onReading = (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (!d || typeof d.value !== "number" || typeof d.time !== "string") return;
    const dr = drones.get(d.site + "/" + d.device);
    const t = Date.parse(d.time);
    if (!dr || isNaN(t) || t < dr.time) return; // a replayed older fix never moves it back
    if (d.quantity !== "latitude" && d.quantity !== "longitude") return;
    if (d.quantity === "latitude" && Math.abs(d.value) > 90) return;
    if (d.quantity === "longitude" && Math.abs(d.value) > 180) return;
    // The two halves of a fix share their time: move once both are in.
    if (dr.pending.t !== t) dr.pending = { t };
    dr.pending[d.quantity] = d.value;
    if (dr.pending.latitude !== undefined && dr.pending.longitude !== undefined) {
      dr.lat = dr.pending.latitude; dr.lon = dr.pending.longitude; dr.time = t;
      move(dr, t);
    }
  };
  const liveURL = options.live === undefined ? "/api/v1/live" : options.live;
  if (liveURL && drones.size && typeof EventSource === "function") {
    const keys = [...drones.keys()].slice(0, 25).flatMap((k) => [k + "/latitude", k + "/longitude"]); // live.MaxSeries
    es = new EventSource(liveURL + (liveURL.includes("?") ? "&" : "?") + "series=" + keys.map(encodeURIComponent).join(","));
    es.addEventListener("reading", onReading);
  }

  const api = {
    map,
    counts,
    setFilter(name, value) {
      if (!(name in selects)) return;
      state[name] = value || "";
      selects[name].value = state[name];
      render();
      writeHash();
    },
    setLayer(name, on) {
      if (!(name in LAYERS)) return;
      state.layers = Object.keys(LAYERS).filter((l) => (l === name ? on : state.layers.includes(l)));
      boxes[name].checked = on;
      render();
      writeHash();
    },
    close() { if (es) es.close(); map.remove(); },
  };
  render();
  writeHash();
  container.dataset.pret = "oui";
  return api;
}
