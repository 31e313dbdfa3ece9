// The test page's script: records CSP violations, fetches the fixture
// document and draws it with map.js (window.carte for the test).
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));
import { createMap } from "/static/map.js";
const data = await (await fetch("/data.json")).json();
const controls = document.createElement("form");
document.getElementById("filtres").append(controls);
window.carte = createMap(document.getElementById("carte"), data, {
  controls, legend: document.getElementById("legende"), baseMap: "/static/basemap-06.geojson", live: "/api/v1/live",
});
