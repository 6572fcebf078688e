/* regiomatch zoning workbench, comparison maps and layer import: one vanilla module, no build step.
 *
 * Each page carries its data as JSON (<script type="application/json">); this file reads it, draws
 * the Leaflet map(s) from one GeoJSON fetch of the municipalities, and talks to the JSON API:
 * POST /api/v1/evaluate after every edit (stateless: the whole edit travels every time),
 * POST /api/v1/evaluate/suggest, and the scenario routes to save, duplicate and delete.
 * No inline scripts or event-handler attributes (CSP); every text the user reads is Dutch.
 */
(function () {
  "use strict";

  var PALETTE = ["#8dd3c7", "#fdb462", "#bebada", "#b3de69", "#fccde5", "#ffed6f", "#80b1d3", "#d9b38c",
                 "#bc80bd", "#ccebc5", "#fb8072", "#a6cee3"];
  var MOVED = "#6a00a8", BRUSSELS = "#cfcfcf", NO_ZONE = "#ffffff";

  // -- Dutch numbers (as geo/dutch.py) ----------------------------------------------------------
  function nl(value) {
    var n = Math.round(Number(value));
    var sign = n < 0 ? "-" : "";
    return sign + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  function pct(share) { return (Number(share) * 100).toFixed(1).replace(".", ",") + " %"; }
  function dec(value) { return Number(value).toFixed(3).replace(".", ","); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "className") { node.className = attrs[k]; }
      else if (k === "style") { node.style.cssText = attrs[k]; }  // CSSOM: allowed by a strict CSP
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function byId(id) { return document.getElementById(id); }
  function readData(id) { var node = byId(id); return node ? JSON.parse(node.textContent) : null; }
  function collator() { return new Intl.Collator("nl", { sensitivity: "base" }); }

  function fetchJSON(url, options) {
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = { detail: text }; }
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  // Zones that touch get different colours (greedy colouring on the municipal adjacency).
  function zoneColours(zoneCodes, municipalities) {
    var touching = {};
    zoneCodes.forEach(function (z) { touching[z] = {}; });
    Object.keys(municipalities).forEach(function (nis) {
      var m = municipalities[nis];
      m.zones.forEach(function (z) {
        m.neighbours.forEach(function (n) {
          var other = municipalities[String(n)];
          if (!other) { return; }
          other.zones.forEach(function (z2) { if (z2 !== z && touching[z]) { touching[z][z2] = true; } });
        });
      });
    });
    var order = zoneCodes.slice().sort(function (a, b) {
      return Object.keys(touching[b]).length - Object.keys(touching[a]).length;
    });
    var colour = {};
    order.forEach(function (z) {
      var used = {};
      Object.keys(touching[z]).forEach(function (n) { if (colour[n] !== undefined) { used[colour[n]] = true; } });
      var i = 0;
      while (used[i]) { i += 1; }
      colour[z] = i;
    });
    var out = {};
    zoneCodes.forEach(function (z) { out[z] = PALETTE[colour[z] % PALETTE.length]; });
    return out;
  }

  // The workbench's map and the status line under it fit the window (1280 x 720 included): the
  // map's bottom is never below the fold when the page opens.
  function fitToScreen() {
    var box = byId("wb-map"), line = byId("wb-status");
    var top = box.getBoundingClientRect().top + window.scrollY;
    var room = window.innerHeight - top - (line ? line.offsetHeight : 24) - 12;
    box.style.height = Math.max(300, Math.min(room, 900)) + "px";
  }

  function baseMap(id) {
    var map = L.map(id, { zoomSnap: 0.25, minZoom: 7, maxZoom: 13, attributionControl: true });
    map.attributionControl.setPrefix(false);
    map.setView([51.05, 4.4], 8);
    return map;
  }

  // ================================================================================================
  // The workbench
  // ================================================================================================
  function Workbench(data) {
    this.data = data;
    this.munis = data.municipalities;
    this.zoneNames = {};
    this.zoneFlemish = {};
    var self = this;
    data.zones.forEach(function (z) { self.zoneNames[z.code] = z.name; self.zoneFlemish[z.code] = z.flemish; });
    // The server's colours (those of every map of the layer); the page's own only as a fallback.
    this.colours = data.colours || zoneColours(data.zones.map(function (z) { return z.code; }), this.munis);
    this.history = [[]];
    this.position = 0;
    this.saved = [];
    this.against = data.against.slice();
    this.nestIn = data.nest_in;
    this.sequence = 0;
    this.shapes = {};
    this.labels = [];
    if (data.scenario) {
      var initial = data.scenario.moves.map(function (m) { return [String(m.nis_code), String(m.to_zone)]; });
      this.history = [initial];
      this.saved = initial;
    }
  }

  // Unsaved work survives a trip to the sign-in page (same tab): kept in this tab's storage for
  // the page's own address when the user leaves to sign in, put back once when they return.
  var UNSAVED = "regiomatch.werkbank.niet-opgeslagen";
  Workbench.prototype.keep = function () {
    try {
      window.sessionStorage.setItem(UNSAVED, JSON.stringify({
        page: location.pathname + location.search, moves: this.moves(), name: byId("wb-name").value,
        description: byId("wb-description").value, against: this.against, nest_in: this.nestIn }));
    } catch (e) { /* storage off: nothing to keep */ }
  };
  Workbench.prototype.restore = function () {
    var kept = null, self = this;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(UNSAVED) || "null");
      window.sessionStorage.removeItem(UNSAVED);
    } catch (e) { return 0; }
    if (!kept || kept.page !== location.pathname + location.search || !Array.isArray(kept.moves)) { return 0; }
    var moves = kept.moves.filter(function (m) {
      return Array.isArray(m) && self.munis[m[0]] && !self.munis[m[0]].locked && self.zoneFlemish[m[1]];
    });
    if (typeof kept.name === "string" && kept.name) { byId("wb-name").value = kept.name; }
    if (typeof kept.description === "string" && kept.description) { byId("wb-description").value = kept.description; }
    if (JSON.stringify(moves) === JSON.stringify(this.moves())) { return 0; }
    this.history = [this.moves(), moves];
    this.position = 1;
    return moves.length;
  };

  Workbench.prototype.moves = function () { return this.history[this.position]; };
  Workbench.prototype.movesMap = function () {
    var out = {};
    this.moves().forEach(function (m) { out[m[0]] = m[1]; });
    return out;
  };
  Workbench.prototype.zonesOf = function (nis) {
    var moved = this.movesMap()[nis];
    return moved ? [moved] : this.munis[nis].zones;
  };
  Workbench.prototype.name = function (nis) { return this.munis[nis] ? this.munis[nis].name : nis; };
  Workbench.prototype.zoneLabel = function (code) { return (this.zoneNames[code] || code) + " (" + code + ")"; };

  Workbench.prototype.start = function () {
    var self = this;
    this.setupControls();
    fitToScreen();
    this.map = baseMap("wb-map");
    window.addEventListener("resize", function () { fitToScreen(); self.map.invalidateSize(); });
    this.map.attributionControl.addAttribution(this.data.attribution || "");
    this.status("Kaart laden …");
    return fetchJSON(this.data.geometry_url).then(function (res) {
      if (!res.ok) { throw new Error("de kaart kon niet geladen worden (" + res.status + ")"); }
      self.geo = L.geoJSON(res.body, {
        style: function (f) { return self.style(f.properties.code); },
        onEachFeature: function (f, layer) {
          var nis = String(f.properties.code);
          self.shapes[nis] = layer;
          layer.options.className = "nis-" + nis;
          layer.bindTooltip(function () { return self.tooltip(nis); }, { sticky: true });
          layer.on("click", function (e) { self.clicked(nis, e.latlng); });
        }
      }).addTo(this.map);
      self.map.fitBounds(self.geo.getBounds(), { padding: [8, 8] });
      // Zone names are smaller with all of Flanders in view; municipalities are named from zoom 10 on.
      // Whatever the zoom, a label that would cover a more important one is left out (declutter).
      var scaleLabels = function () {
        var zoom = self.map.getZoom(), box = self.map.getContainer();
        box.classList.toggle("labels-small", zoom < 9);
        box.classList.toggle("labels-hidden", zoom < 7.75);
        box.classList.toggle("names-shown", zoom >= MUNICIPALITY_NAMES_ZOOM);
        self.declutter();
      };
      self.map.on("zoomend", scaleLabels);
      self.map.on("moveend", function () { self.declutter(); });
      self.drawNames();
      scaleLabels();
      self.focusZone(new URLSearchParams(location.search).get("zone"));
      var restored = self.restore();
      self.refresh();
      var gone = new URLSearchParams(location.search).get("verwijderd");
      if (restored) {
        self.status(restored === 1 ? "Uw niet-opgeslagen verschuiving staat terug op de kaart."
                                   : "Uw " + restored + " niet-opgeslagen verschuivingen staan terug op de kaart.");
      } else if (gone) {
        self.status("Scenario “" + gone + "” is verwijderd. U ziet weer de huidige indeling.");
      } else {
        self.status("Klik op een gemeente om ze te verschuiven.");
      }
    }.bind(this)).catch(function (err) { self.status("Fout: " + err.message, true); });
  };

  // /werkbank?base=..&zone=CODE (from a zone's row or report): zoom to it and paint into it.
  Workbench.prototype.focusZone = function (code) {
    var self = this;
    if (!code || this.zoneNames[code] === undefined) { return; }
    var bounds = null;
    Object.keys(this.shapes).forEach(function (nis) {
      if (self.munis[nis] && self.munis[nis].zones.indexOf(code) >= 0) {
        bounds = bounds ? bounds.extend(self.shapes[nis].getBounds()) : L.latLngBounds(self.shapes[nis].getBounds().getSouthWest(), self.shapes[nis].getBounds().getNorthEast());
      }
    });
    if (bounds) { this.map.fitBounds(bounds.pad(0.6), { animate: false }); }
    if (this.zoneFlemish[code]) { byId("wb-paint").value = code; }
  };

  Workbench.prototype.status = function (text, warn) {
    var node = byId("wb-status");
    node.textContent = text;
    node.className = warn ? "warn" : "";
  };

  Workbench.prototype.style = function (nis) {
    var m = this.munis[nis];
    if (!m) { return { fillColor: NO_ZONE, fillOpacity: 0.3, color: "#999", weight: 0.5 }; }
    var zones = this.zonesOf(nis);
    var moved = this.movesMap()[nis] !== undefined;
    var fill = zones.length ? this.colours[zones[0]] : NO_ZONE;
    if (m.locked && zones.length && !this.zoneFlemish[zones[0]]) { fill = BRUSSELS; }
    return { fillColor: fill, fillOpacity: 0.75, color: moved ? MOVED : "#555", weight: moved ? 3 : 0.6,
             dashArray: m.locked ? "3 3" : null };
  };

  Workbench.prototype.tooltip = function (nis) {
    var m = this.munis[nis];
    if (!m) { return nis; }
    var zones = this.zonesOf(nis).map(this.zoneLabel.bind(this)).join(", ") || "geen zone";
    var text = "<strong>" + L.Util.template("{n}", { n: escapeHtml(m.name) }) + "</strong> (" + nis + ")<br>" +
      nl(m.population) + " inwoners<br>" + escapeHtml(zones);
    if (m.locked) { text += "<br><em>" + escapeHtml(m.locked) + "</em>"; }
    return text;
  };

  Workbench.prototype.refresh = function () {
    var self = this;
    Object.keys(this.shapes).forEach(function (nis) { self.shapes[nis].setStyle(self.style(nis)); });
    this.drawLabels();
    this.renderMoves();
    byId("wb-undo").disabled = this.position === 0;
    byId("wb-redo").disabled = this.position >= this.history.length - 1;
    byId("wb-reset").disabled = this.moves().length === 0;
    this.offerZones();
    this.evaluate();
  };

  // Municipality names from this zoom on (below it they would cover the zones' names).
  var MUNICIPALITY_NAMES_ZOOM = 10;

  Workbench.prototype.drawNames = function () {
    var self = this;
    this.names = [];
    Object.keys(this.shapes).forEach(function (nis) {
      var m = self.munis[nis];
      if (!m) { return; }
      var name = L.marker(self.shapes[nis].getBounds().getCenter(), { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "muni-label", html: "<span>" + escapeHtml(m.name) + "</span>", iconSize: null }) });
      name.addTo(self.map);
      name.rank = 1e9 - m.population;  // behind every zone name, bigger places first
      self.names.push(name);
    });
  };

  // Labels never cover each other: by rank (zones by population, then municipalities), a label
  // that would overlap one already shown is hidden.
  Workbench.prototype.declutter = function () {
    if (!this.map) { return; }
    var shown = [], visible = this.map.getContainer().classList.contains("names-shown");
    var all = this.labels.concat(visible ? this.names || [] : []);
    (this.names || []).forEach(function (n) { if (n._icon) { n._icon.classList.toggle("crowded", !visible); } });
    all.sort(function (a, b) { return a.rank - b.rank; });
    all.forEach(function (label) {
      var icon = label._icon;
      if (!icon) { return; }
      icon.classList.remove("crowded");
      var span = icon.firstChild;
      var r = span ? span.getBoundingClientRect() : null;
      if (!r || (!r.width && !r.height)) { return; }  // hidden by zoom
      var clash = shown.some(function (o) { return r.left < o.right && o.left < r.right && r.top < o.bottom && o.top < r.bottom; });
      if (clash) { icon.classList.add("crowded"); } else { shown.push(r); }
    });
  };

  // A zone's label sits on its most populous member (always inside the zone).
  Workbench.prototype.drawLabels = function () {
    var self = this;
    this.labels.forEach(function (l) { self.map.removeLayer(l); });
    this.labels = [];
    var best = {};
    Object.keys(this.shapes).forEach(function (nis) {
      var m = self.munis[nis];
      if (!m) { return; }
      self.zonesOf(nis).forEach(function (z) {
        if (!best[z] || m.population > self.munis[best[z]].population) { best[z] = nis; }
      });
    });
    var people = {};
    Object.keys(this.shapes).forEach(function (nis) {
      var m = self.munis[nis];
      if (m) { self.zonesOf(nis).forEach(function (z) { people[z] = (people[z] || 0) + m.population; }); }
    });
    Object.keys(best).forEach(function (z) {
      var centre = self.shapes[best[z]].getBounds().getCenter();
      var label = L.marker(centre, { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "zone-label", html: "<span>" + escapeHtml(self.zoneNames[z] || z) + "</span>", iconSize: null }) });
      label.addTo(self.map);
      label.rank = -people[z];
      self.labels.push(label);
    });
    this.declutter();
  };

  Workbench.prototype.setupControls = function () {
    var self = this;
    var paint = byId("wb-paint"), zoneSelect = byId("wb-zone"), muniSelect = byId("wb-muni");
    this.data.zones.filter(function (z) { return z.flemish; }).forEach(function (z) {
      paint.appendChild(el("option", { value: z.code, text: z.name + " (" + z.code + ")" }));
      zoneSelect.appendChild(el("option", { value: z.code, text: z.name + " (" + z.code + ")" }));
    });
    var cmp = collator();
    Object.keys(this.munis).filter(function (nis) { return !self.munis[nis].locked; })
      .sort(function (a, b) { return cmp.compare(self.munis[a].name, self.munis[b].name); })
      .forEach(function (nis) { muniSelect.appendChild(el("option", { value: nis, text: self.munis[nis].name + " (" + nis + ")" })); });
    muniSelect.addEventListener("change", function () { self.offerZones(); });
    byId("wb-move-form").addEventListener("submit", function (e) {
      e.preventDefault();
      self.move([[muniSelect.value, zoneSelect.value]]);
    });
    byId("wb-undo").addEventListener("click", function () { self.undo(); });
    byId("wb-redo").addEventListener("click", function () { self.redo(); });
    byId("wb-reset").addEventListener("click", function () { self.setMoves([]); });
    var against = byId("wb-against");
    this.data.references.forEach(function (r) {
      var box = el("input", { type: "checkbox", value: r.id, id: "wb-against-" + r.id });
      box.checked = self.against.indexOf(r.id) >= 0;
      box.addEventListener("change", function () {
        self.against = Array.prototype.filter.call(against.querySelectorAll("input:checked"), function () { return true; })
          .map(function (b) { return b.value; });
        self.evaluate();
      });
      against.appendChild(el("label", { className: "field" }, [box, " " + r.name]));
    });
    var nest = byId("wb-nest");
    this.data.references.forEach(function (r) {
      var option = el("option", { value: r.id, text: r.name });
      if (r.id === self.nestIn) { option.selected = true; }
      nest.appendChild(option);
    });
    nest.addEventListener("change", function () { self.nestIn = nest.value || null; self.evaluate(); });
    byId("wb-norm").textContent = this.data.norm
      ? "Norm: " + this.data.norm.label + ". Bevolking: Statbel, 1 januari " + this.data.population_year + "."
      : "Voor deze laag geldt geen bevolkingsnorm. Bevolking: Statbel, 1 januari " + this.data.population_year + ".";
    byId("wb-suggest-form").addEventListener("submit", function (e) { e.preventDefault(); self.suggest(); });
    this.setupSaving();
  };

  // The form's zone list never offers the zone the chosen municipality is in already.
  Workbench.prototype.offerZones = function () {
    var nis = byId("wb-muni").value, select = byId("wb-zone");
    var now = nis && this.munis[nis] ? this.zonesOf(nis) : [];
    var first = null;
    Array.prototype.forEach.call(select.options, function (o) {
      var current = now.length === 1 && now[0] === o.value;
      o.hidden = o.disabled = current;
      if (!current && first === null) { first = o.value; }
    });
    if (select.selectedOptions.length && select.selectedOptions[0].disabled) { select.value = first; }
  };

  // -- editing ------------------------------------------------------------------------------------
  Workbench.prototype.clicked = function (nis, latlng) {
    var m = this.munis[nis];
    if (!m) { return; }
    if (m.locked) { this.status(m.locked + ": deze gemeente kan niet verschoven worden.", true); return; }
    var paint = byId("wb-paint").value;
    if (paint) { this.move([[nis, paint]]); return; }
    this.choose(nis, latlng);
  };

  // The zones of the municipality's neighbours first, then every other zone.
  Workbench.prototype.choose = function (nis, latlng) {
    var self = this, m = this.munis[nis];
    var current = this.zonesOf(nis);
    var near = [];
    m.neighbours.forEach(function (n) {
      var other = self.munis[String(n)];
      if (!other) { return; }
      self.zonesOf(String(n)).forEach(function (z) {
        if (current.indexOf(z) < 0 && near.indexOf(z) < 0 && self.zoneFlemish[z]) { near.push(z); }
      });
    });
    var box = el("div", { className: "popup-zones" }, [
      el("strong", { text: m.name }), el("br"),
      document.createTextNode("nu in " + current.map(self.zoneLabel.bind(self)).join(", ")),
      el("p", { text: near.length ? "Naar de zone van een buur:" : "Geen buurzone: kies hieronder." })]);
    near.forEach(function (z) {
      var b = el("button", { type: "button", "data-zone": z, text: self.zoneLabel(z) });
      b.addEventListener("click", function () { self.map.closePopup(); self.move([[nis, z]]); });
      box.appendChild(b);
    });
    var select = el("select", { "aria-label": "andere zone" }, [el("option", { value: "", text: "andere zone …" })]);
    this.data.zones.forEach(function (z) {
      if (z.flemish && near.indexOf(z.code) < 0 && current.indexOf(z.code) < 0) {
        select.appendChild(el("option", { value: z.code, text: z.name + " (" + z.code + ")" }));
      }
    });
    select.addEventListener("change", function () { if (select.value) { self.map.closePopup(); self.move([[nis, select.value]]); } });
    box.appendChild(select);
    L.popup().setLatLng(latlng).setContent(box).openOn(this.map);
  };

  Workbench.prototype.move = function (pairs) {
    var self = this;
    var next = this.movesMap();
    var order = this.moves().map(function (m) { return m[0]; });
    var refused = [], done = [];
    pairs.forEach(function (p) {
      var nis = String(p[0]), zone = String(p[1]);
      var m = self.munis[nis];
      if (!m || m.locked) { refused.push(m ? m.locked : nis); return; }
      var now = self.zonesOf(nis);
      if (now.length === 1 && now[0] === zone) { refused.push(m.name + " ligt al in " + self.zoneLabel(zone)); return; }
      done.push(p);
      var base = m.zones;
      delete next[nis];
      order = order.filter(function (n) { return n !== nis; });
      if (!(base.length === 1 && base[0] === zone)) { next[nis] = zone; order.push(nis); }
    });
    var moves = order.filter(function (n) { return next[n] !== undefined; }).map(function (n) { return [n, next[n]]; });
    var described = done.map(function (p) { return self.name(String(p[0])) + " naar " + self.zoneLabel(String(p[1])); });
    if (done.length) { this.setMoves(moves); }
    var said = (described.length ? "Verschoven: " + described.join(", ") + ". " : "") +
               (refused.length ? (described.length ? "Niet verschoven: " : "") + refused.join("; ") + "." : "");
    this.status(said, refused.length > 0);
  };

  Workbench.prototype.setMoves = function (moves) {
    this.history = this.history.slice(0, this.position + 1);
    this.history.push(moves);
    this.position = this.history.length - 1;
    this.refresh();
  };
  Workbench.prototype.undo = function () {
    if (this.position > 0) { this.position -= 1; this.refresh(); this.status("Laatste stap ongedaan gemaakt."); }
  };
  Workbench.prototype.redo = function () {
    if (this.position < this.history.length - 1) { this.position += 1; this.refresh(); this.status("Stap opnieuw uitgevoerd."); }
  };

  Workbench.prototype.renderMoves = function () {
    var self = this, list = byId("wb-move-list");
    list.textContent = "";
    var moves = this.moves();
    byId("wb-move-count").textContent = "(" + moves.length + ")";
    byId("wb-no-moves").hidden = moves.length > 0;
    moves.forEach(function (m) {
      var nis = m[0];
      var back = el("button", { type: "button", text: "terugzetten", "data-nis": nis });
      back.addEventListener("click", function () { self.move([[nis, self.munis[nis].zones[0]]]); });
      list.appendChild(el("li", { "data-nis": nis }, [
        el("strong", { text: self.name(nis) }),
        " (" + nl(self.munis[nis].population) + " inw.): " +
          self.munis[nis].zones.map(self.zoneLabel.bind(self)).join(", ") + " → " + self.zoneLabel(m[1]) + " ",
        back]));
    });
  };

  // -- live feedback --------------------------------------------------------------------------------
  Workbench.prototype.request = function () {
    return { base_layer: this.data.base_layer,
             moves: this.moves().map(function (m) { return { nis_code: Number(m[0]), to_zone: m[1] }; }),
             against: this.against, nest_in: this.nestIn };
  };

  Workbench.prototype.evaluate = function () {
    var self = this, sequence = ++this.sequence;
    document.body.setAttribute("data-evaluated", "pending");
    return fetchJSON("/api/v1/evaluate", { method: "POST", headers: { "Content-Type": "application/json" },
                                           body: JSON.stringify(this.request()) })
      .then(function (res) {
        if (sequence !== self.sequence) { return; }  // a later edit's answer is on its way
        if (!res.ok) { self.status("De beoordeling mislukte: " + (res.body && res.body.detail), true); return; }
        self.result = res.body;
        self.renderFit(res.body);
        self.renderChecks(res.body);
        self.renderPopulation(res.body);
        document.body.setAttribute("data-evaluated", String(sequence));
      })
      .catch(function (err) { self.status("De server antwoordde niet: " + err.message, true); });
  };

  var FIT_ROWS = 10, OUTSIDE_NAMES = 4;
  // "1 verschuiving", "2 verschuivingen": the noun agrees with the number.
  function count(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function arrow(before, after) { return before === after ? String(after) : before + " → " + after; }

  Workbench.prototype.renderFit = function (result) {
    var self = this, body = byId("wb-fit-body");
    body.textContent = "";
    if (!result.references.length) { body.appendChild(el("p", { className: "muted", text: "Kies een laag om de aansluiting mee te meten." })); return; }
    result.references.forEach(function (ref) {
      body.appendChild(el("h3", { text: ref.name }));
      body.appendChild(el("p", {}, ["Inwoners van wie de zone van " + ref.name + " volledig in één zone ligt: ",
        el("strong", { text: arrow(ref.nested_share_text[0], ref.nested_share_text[1]) })]));
      // Changed zones first, then the most split ones; a big register (286 associations) stays a
      // short table: every changed zone, topped up to FIT_ROWS with the most split unchanged ones.
      var rows = ref.zones.slice().sort(function (a, b) {
        return (b.changed ? 1 : 0) - (a.changed ? 1 : 0) || b.zones_touched - a.zones_touched;
      });
      var changedCount = rows.filter(function (z) { return z.changed; }).length;
      var shown = rows.slice(0, Math.max(changedCount, FIT_ROWS));
      var table = el("table", { className: "fit", "data-layer": ref.layer }, [
        el("thead", {}, [el("tr", {}, [el("th", { text: "Zone" }), el("th", { className: "num", text: "Zones geraakt" }),
          el("th", { text: "Grootste deel" }), el("th", { text: "Leden buiten" })])])]);
      var tbody = el("tbody");
      shown.forEach(function (z) {
        var outside = z.outside.map(function (m) { return m.municipality; });
        var outsideCell = outside.length > OUTSIDE_NAMES
          ? el("details", {}, [el("summary", { text: outside.slice(0, OUTSIDE_NAMES).join(", ") + " … en " + (outside.length - OUTSIDE_NAMES) + " andere" }),
                               el("small", { text: outside.join(", ") })])
          : el("small", { text: outside.join(", ") });
        var tr = el("tr", { "data-code": z.code, className: z.changed ? "changed" : "" }, [
          el("td", {}, [z.name + " ", el("small", { text: "(" + z.code + ")" })]),
          el("td", { className: "num touched", "data-before": String(z.zones_touched_before), "data-after": String(z.zones_touched),
                     text: arrow(z.zones_touched_before, z.zones_touched) }),
          el("td", {}, [el("span", { className: "keep", text: arrow(z.dominant_share_text[0], z.dominant_share_text[1]) }), el("br"),
                     el("small", { text: z.dominant_zone ? "in " + self.zoneLabel(z.dominant_zone) : "" })]),
          el("td", {}, [arrow(z.outside_before.length, z.outside.length), el("br"), outsideCell])]);
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      body.appendChild(table);
      if (rows.length > shown.length) {
        var hidden = rows.length - shown.length;
        body.appendChild(el("p", { className: "muted", text: (hidden === 1 ? "1 zone" : hidden + " zones") +
          " zonder wijziging niet getoond (minder gesplitst dan de getoonde)." }));
      }
    });
  };

  Workbench.prototype.renderChecks = function (result) {
    var body = byId("wb-checks-body");
    body.textContent = "";
    var list = el("ul");
    var violations = result.contiguity.filter(function (p) { return p.status === "violation"; });
    if (!violations.length) { list.appendChild(el("li", { className: "pass", text: "Geen nieuwe losliggende stukken." })); }
    result.contiguity.forEach(function (p) {
      var what = p.status === "violation" ? "Nieuw losliggend stuk" : p.status === "inherited" ? "Losliggend stuk dat al bestond" : "Exclave";
      list.appendChild(el("li", { className: p.status === "violation" ? "fail" : "", "data-status": p.status },
        [what + " van " + p.zone_name + " (" + p.zone_code + "): " + p.municipalities.join(", ") +
         " (" + nl(p.population) + " inw.)" + (p.status === "exclave" ? ": " + p.reason : "")]));
    });
    body.appendChild(list);
    if (result.nesting) {
      var n = result.nesting;
      var text = "Zones die niet binnen één zone van " + n.parent_name + " liggen: " +
        arrow(n.violations_before.length, n.violations.length) + ".";
      body.appendChild(el("p", { id: "wb-nesting", text: text }));
      var fresh = n.violations.filter(function (v) { return n.violations_before.indexOf(v.code) < 0; });
      if (fresh.length) {
        var ul = el("ul");
        fresh.forEach(function (v) {
          ul.appendChild(el("li", { className: "fail", text: "Nieuw: " + v.name + " (" + v.code + ") ligt in " +
            v.zones_touched.map(function (z) { return z.name + " (" + nl(z.population) + " inw.)"; }).join(", ") }));
        });
        body.appendChild(ul);
      }
      // Every zone counted above by name: the ones still split and the ones this edit healed.
      var self = this, now = n.violations.map(function (v) { return v.code; });
      var still = n.violations.filter(function (v) { return n.violations_before.indexOf(v.code) >= 0; });
      var healed = n.violations_before.filter(function (code) { return now.indexOf(code) < 0; });
      if (still.length) {
        body.appendChild(el("p", { className: "muted", id: "wb-nesting-still", text: (fresh.length ? "Al eerder: " : "") +
          still.map(function (v) { return v.name + " (" + v.code + ")"; }).join(", ") + "." }));
      }
      if (healed.length) {
        body.appendChild(el("p", { className: "pass", id: "wb-nesting-healed", text: "Nu wel binnen één zone: " +
          healed.map(function (code) { return self.zoneLabel(code); }).join(", ") + "." }));
      }
    }
  };

  Workbench.prototype.renderPopulation = function (result) {
    var body = byId("wb-population-body");
    body.textContent = "";
    var zones = result.zones.filter(function (z) { return z.norm_status !== "not_judged" || result.norm === null; });
    var max = Math.max.apply(null, zones.map(function (z) { return Math.max(z.population, z.population_before); }).concat([1]));
    var rank = function (z) { return (z.changed ? 0 : 2) + (z.norm_status === "ok" || z.norm_status === "not_judged" ? 1 : 0); };
    zones.sort(function (a, b) { return rank(a) - rank(b) || b.population - a.population; });
    var table = el("table", {}, [el("thead", {}, [el("tr", {}, [el("th", { text: "Zone" }), el("th", { className: "num", text: "Inwoners" }),
      el("th", { text: "" })])])]);
    var tbody = el("tbody");
    var lines = [];
    if (result.norm) { [result.norm.minimum, result.norm.maximum].forEach(function (v) { if (v) { lines.push(v); } }); }
    zones.forEach(function (z) {
      var failing = z.norm_status === "below_minimum" || z.norm_status === "above_maximum";
      var bar = el("div", { className: "bar", title: failing ? "buiten de norm" : "" },
        [el("span", { className: failing ? "fail" : "", style: "width:" + (100 * z.population / max).toFixed(1) + "%" })]);
      lines.forEach(function (v) { bar.appendChild(el("i", { style: "left:" + (100 * v / max).toFixed(1) + "%" })); });
      var verdict = z.norm_status === "below_minimum" ? " onder de norm" : z.norm_status === "above_maximum" ? " boven de norm" : "";
      tbody.appendChild(el("tr", { "data-code": z.code, className: z.changed ? "changed" : "" }, [
        el("td", {}, [z.name + " ", el("small", { text: "(" + z.code + ")" })]),
        el("td", { className: "num" + (failing ? " fail" : ""), text: (z.changed ? nl(z.population_before) + " → " : "") + nl(z.population) + verdict }),
        el("td", {}, [bar])]));
    });
    table.appendChild(tbody);
    body.appendChild(table);
  };

  // -- suggestions ----------------------------------------------------------------------------------
  function codes(text) {
    return (text || "").split(/[^0-9]+/).filter(Boolean).map(Number);
  }

  Workbench.prototype.suggest = function () {
    var self = this, list = byId("wb-steps");
    list.textContent = "";
    if (!this.against.length) { this.status("Kies eerst een laag om de aansluiting mee te meten.", true); return; }
    var body = this.request();
    body.max_moves = Number(byId("wb-max-moves").value) || 5;
    body.time_budget_seconds = Number(byId("wb-budget").value) || 3;
    body.fixed = codes(byId("wb-fixed").value);
    body.keep_together = byId("wb-keep").value.split(";").map(codes).filter(function (g) { return g.length > 1; });
    body.allow_anchor_moves = byId("wb-anchors").checked;
    byId("wb-suggest-run").disabled = true;
    list.appendChild(el("li", { className: "muted", text: "Zoeken …" }));
    fetchJSON("/api/v1/evaluate/suggest", { method: "POST", headers: { "Content-Type": "application/json" },
                                            body: JSON.stringify(body) })
      .then(function (res) {
        list.textContent = "";
        if (!res.ok) { list.appendChild(el("li", { className: "fail", text: "Geen voorstel: " + (res.body && res.body.detail) })); return; }
        if (!res.body.steps.length) { list.appendChild(el("li", { text: "regiomatch vindt binnen deze voorwaarden geen verschuiving die de aansluiting verbetert." })); return; }
        res.body.steps.forEach(function (step) {
          var accept = el("button", { type: "button", text: "Aanvaarden" });
          var reject = el("button", { type: "button", text: "Verwerpen" });
          var item = el("li", { "data-step": String(step.step) }, [el("p", { text: step.explanation }), accept, " ", reject]);
          accept.addEventListener("click", function () {
            self.move(step.nis_codes.map(function (n) { return [String(n), step.to_zone]; }));
            item.className = "accepted"; accept.disabled = reject.disabled = true;
          });
          reject.addEventListener("click", function () { item.className = "rejected"; accept.disabled = reject.disabled = true; });
          list.appendChild(item);
        });
        list.appendChild(el("li", { className: "muted", text: "Elke stap bouwt voort op de vorige: aanvaard ze bij voorkeur in volgorde." }));
      })
      .catch(function (err) { list.textContent = ""; self.status("De server antwoordde niet: " + err.message, true); })
      .then(function () { byId("wb-suggest-run").disabled = false; });
  };

  // -- saving ---------------------------------------------------------------------------------------
  Workbench.prototype.headers = function () {
    var h = { "Content-Type": "application/json" };
    if (this.data.writer.csrf) { h["X-CSRF-Token"] = this.data.writer.csrf; }
    return h;
  };

  Workbench.prototype.setupSaving = function () {
    var self = this, s = this.data.scenario;
    if (this.data.writer.needs_signin && !this.data.writer.signed_in) {
      byId("wb-signin").hidden = false;
      byId("wb-signin-link").href = "/aanmelden?next=" + encodeURIComponent(location.pathname + location.search);
      // Any way out of the page (this link, the menu, a reload) keeps the unsaved moves for the return.
      window.addEventListener("pagehide", function () { if (self.unsaved()) { self.keep(); } });
    }
    byId("wb-name").value = s ? s.name : "";
    byId("wb-description").value = s ? s.description : "";
    byId("wb-save-form").addEventListener("submit", function (e) { e.preventDefault(); self.save(); });
    byId("wb-duplicate").addEventListener("click", function () { self.duplicate(); });
    byId("wb-delete").addEventListener("click", function () { self.remove(); });
    this.showScenario();
  };

  Workbench.prototype.showScenario = function () {
    var s = this.data.scenario;
    byId("wb-duplicate").hidden = byId("wb-delete").hidden = byId("wb-links").hidden = !s;
    if (!s) { return; }
    var base = encodeURIComponent(this.data.base_layer), other = encodeURIComponent(s.layer_id), id = encodeURIComponent(s.id);
    byId("wb-compare-link").href = "/vergelijk?base=" + base + "&other=" + other;
    ["csv", "xlsx", "geojson", "gpkg"].forEach(function (f) { byId("wb-export-" + f).href = "/api/v1/scenarios/" + id + "/export?format=" + f; });
    byId("wb-export-pdf").href = "/vergelijk.pdf?base=" + base + "&other=" + other;
    byId("wb-ogc-link").href = "/ogc/collections/scenario-" + id;
    byId("wb-ogc-id").textContent = "scenario-" + s.id;
  };

  Workbench.prototype.saveStatus = function (text, warn) {
    var node = byId("wb-save-status");
    node.textContent = text;
    node.className = warn ? "fail" : "pass";
  };

  Workbench.prototype.problemsText = function () {
    var p = this.result ? this.result.problems : null;
    if (!p) { return ""; }
    var parts = [];
    if (p.population) { parts.push(count(p.population, "zone", "zones") + " buiten de norm"); }
    if (p.not_contiguous) { parts.push(count(p.not_contiguous, "nieuw losliggend stuk", "nieuwe losliggende stukken")); }
    if (p.not_nested) { parts.push(count(p.not_nested, "zone", "zones") + " niet genest"); }
    return parts.length ? " Let op: " + parts.join(", ") + "." : "";
  };

  Workbench.prototype.failed = function (res) {
    if (res.status === 401) {
      byId("wb-signin").hidden = false;
      return "Opslaan vraagt een aanmelding: meld u aan (link hierboven) en probeer opnieuw. Uw verschuivingen worden " +
        "bewaard en staan na het aanmelden terug op de kaart.";
    }
    if (res.status === 409) {
      return "Iemand anders heeft dit scenario intussen gewijzigd. Er is niets overschreven en uw verschuivingen " +
        "staan nog op de kaart: sla ze op als kopie, of herlaad de pagina om de nieuwste versie te zien.";
    }
    return "Opslaan mislukte (" + res.status + "): " + (res.body && res.body.detail) + ". Uw verschuivingen blijven op de kaart staan.";
  };

  Workbench.prototype.unsaved = function () { return JSON.stringify(this.moves()) !== JSON.stringify(this.saved); };

  Workbench.prototype.payloadMoves = function () {
    return this.moves().map(function (m) { return { nis_code: Number(m[0]), to_zone: m[1] }; });
  };

  Workbench.prototype.save = function () {
    var self = this, s = this.data.scenario;
    var name = byId("wb-name").value.trim(), description = byId("wb-description").value;
    if (!name) { this.saveStatus("Geef het scenario een naam.", true); return; }
    var request;
    if (s) {
      var undo = s.moves.map(function (m) { return Number(m.nis_code); });
      request = fetchJSON("/api/v1/scenarios/" + encodeURIComponent(s.id), { method: "PATCH", headers: this.headers(),
        body: JSON.stringify({ add_moves: this.payloadMoves(), undo: undo, name: name, description: description, version: s.version }) });
    } else {
      request = fetchJSON("/api/v1/scenarios", { method: "POST", headers: this.headers(),
        body: JSON.stringify({ name: name, base_layer: this.data.base_layer, moves: this.payloadMoves(), description: description }) });
    }
    return request.then(function (res) {
      if (!res.ok) { self.saveStatus(self.failed(res), true); return; }
      var r = res.body;
      self.data.scenario = { id: r.id, name: r.name, description: r.description, version: r.version, moves: r.moves, layer_id: r.layer_id };
      self.saved = self.moves();
      history.replaceState(null, "", "/werkbank/" + encodeURIComponent(r.id));
      self.showScenario();
      self.saveStatus("Opgeslagen als “" + r.name + "” (versie " + r.version + ", " + count(r.moves.length, "verschuiving", "verschuivingen") + ")." + self.problemsText());
    }).catch(function (err) { self.saveStatus("De server antwoordde niet: " + err.message + ". Uw verschuivingen blijven op de kaart staan.", true); });
  };

  Workbench.prototype.duplicate = function () {
    var self = this, name = "Kopie van " + (byId("wb-name").value.trim() || this.data.scenario.name);
    fetchJSON("/api/v1/scenarios", { method: "POST", headers: this.headers(),
      body: JSON.stringify({ name: name.slice(0, 200), base_layer: this.data.base_layer, moves: this.payloadMoves(),
                             description: byId("wb-description").value }) })
      .then(function (res) {
        if (!res.ok) { self.saveStatus(self.failed(res), true); return; }
        location.href = "/werkbank/" + encodeURIComponent(res.body.id);
      });
  };

  Workbench.prototype.remove = function () {
    var self = this, s = this.data.scenario;
    if (!window.confirm("Scenario “" + s.name + "” verwijderen? Dit kan niet ongedaan gemaakt worden.")) { return; }
    fetchJSON("/api/v1/scenarios/" + encodeURIComponent(s.id), { method: "DELETE", headers: this.headers() })
      .then(function (res) {
        if (!res.ok) { self.saveStatus(self.failed(res), true); return; }
        location.href = "/werkbank?base=" + encodeURIComponent(self.data.base_layer) + "&verwijderd=" + encodeURIComponent(s.name);
      });
  };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // ================================================================================================
  // Comparison: two maps in step
  // ================================================================================================
  function Comparison(data) { this.data = data; }

  Comparison.prototype.start = function () {
    var data = this.data, maps = [baseMap("cmp-left"), baseMap("cmp-right")];
    var sides = [data.left, data.right];
    var codes = {};
    sides.forEach(function (s) { Object.keys(s.zones).forEach(function (n) { s.zones[n].zones.forEach(function (z) { codes[z] = true; }); }); });
    var colours = data.colours || zoneColours(Object.keys(codes), data.left.zones);
    var moved = {};
    data.moved.forEach(function (n) { moved[String(n)] = true; });
    var syncing = false;
    maps.forEach(function (m, i) {
      m.on("move", function () {
        if (syncing) { return; }
        syncing = true;
        maps[1 - i].setView(m.getCenter(), m.getZoom(), { animate: false });
        syncing = false;
      });
    });
    return fetchJSON(data.geometry_url).then(function (res) {
      if (!res.ok) { throw new Error("de kaart kon niet geladen worden (" + res.status + ")"); }
      maps.forEach(function (m, i) {
        var side = sides[i];
        var layer = L.geoJSON(res.body, {
          style: function (f) {
            var nis = String(f.properties.code), entry = side.zones[nis];
            var zones = entry ? entry.zones : [];
            return { fillColor: zones.length ? colours[zones[0]] : NO_ZONE, fillOpacity: 0.75,
                     color: moved[nis] ? MOVED : "#555", weight: moved[nis] ? 3 : 0.6 };
          },
          onEachFeature: function (f, l) {
            var nis = String(f.properties.code), entry = side.zones[nis];
            l.bindTooltip(escapeHtml(f.properties.name) + "<br>" + escapeHtml(entry ? entry.zones.join(", ") : ""), { sticky: true });
          }
        }).addTo(m);
        if (i === 0) { m.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
      });
    }).catch(function (err) { byId("cmp-status").textContent = "Fout: " + err.message; });
  };

  // ================================================================================================
  // Importing a layer: preview, then save; delete imported layers
  // ================================================================================================
  function Importer(data) { this.data = data; }

  Importer.prototype.headers = function () {
    return this.data.writer.csrf ? { "X-CSRF-Token": this.data.writer.csrf } : {};
  };

  Importer.prototype.start = function () {
    var self = this, form = byId("ln-form"), out = byId("ln-preview");
    function send(url, what) {
      var body = new FormData(form);
      out.textContent = what;
      return fetchJSON(url, { method: "POST", headers: self.headers(), body: body });
    }
    byId("ln-preview-button").addEventListener("click", function () {
      send("/api/v1/layers/preview", "Bestand nakijken …").then(function (res) { self.showPreview(res, false); })
        .catch(function (err) { self.unreachable(err); });
    });
    // Saving first runs the preview: the same Dutch list of every problem (nothing is saved then),
    // or the same preview plus what was saved, where to look at it next and what was left out.
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      send("/api/v1/layers/preview", "Bestand nakijken …").then(function (checked) {
        if (!checked.ok || checked.body.problems.length) { self.showPreview(checked, true); return null; }
        return send("/api/v1/layers", "Opslaan …").then(function (res) {
          if (!res.ok) { self.showPreview(res, true); return; }
          self.showPreview(checked, false);
          self.saved(res.body, checked.body);
        });
      }).catch(function (err) { self.unreachable(err); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button[data-delete-layer]"), function (b) {
      self.deletable(b);
    });
  };

  Importer.prototype.unreachable = function (err) {
    var out = byId("ln-preview");
    out.textContent = "";
    out.appendChild(el("p", { className: "fail", text: "De server antwoordde niet (" + err.message + "). Er is niets opgeslagen." }));
  };

  Importer.prototype.deletable = function (b) {
    var self = this;
    b.addEventListener("click", function () {
      var id = b.getAttribute("data-delete-layer");
      if (!window.confirm("Laag " + id + " verwijderen?")) { return; }
      fetchJSON("/api/v1/layers/" + encodeURIComponent(id), { method: "DELETE", headers: self.headers() }).then(function (res) {
        if (res.ok) { location.reload(); } else { window.alert("Verwijderen mislukte: " + (res.body && res.body.detail)); }
      });
    });
  };

  // Where to look at an imported layer: its map and overlay against the usual comparison, a
  // report per zone, the workbench.
  Importer.prototype.links = function (id) {
    var c = this.data.compare, a = encodeURIComponent(id);
    var list = el("ul", { className: "links", id: "ln-next" });
    if (c) {
      var b = encodeURIComponent(c.id);
      list.appendChild(el("li", {}, [el("a", { href: "/maps/overlay?a=" + a + "&b=" + b, text: "Kaart tegenover de " + c.name.toLowerCase() })]));
      list.appendChild(el("li", {}, [el("a", { href: "/overlay?a=" + a + "&b=" + b, text: "Overlaytabel tegenover de " + c.name.toLowerCase() })]));
    }
    list.appendChild(el("li", {}, [el("a", { href: "/werkbank?base=" + a, text: "Open ze in de werkbank" })]));
    return list;
  };

  Importer.prototype.saved = function (layer, preview) {
    var out = byId("ln-preview"), id = layer.id;
    var summary = el("div", { id: "ln-saved" }, [
      el("p", { className: "pass", text: "Laag “" + layer.name + "” opgeslagen (" + (layer.zone_count === 1 ? "1 zone" : layer.zone_count + " zones") + ")." })]);
    if (preview.dropped && preview.dropped.length) {
      summary.appendChild(el("p", { className: "fail", text: "Niet opgenomen:" }));
      var ul = el("ul", { className: "ln-dropped" });
      preview.dropped.forEach(function (d) { ul.appendChild(el("li", { className: "fail", text: d })); });
      summary.appendChild(ul);
    }
    summary.appendChild(el("p", { text: "Verder met deze laag:" }));
    summary.appendChild(this.links(id));
    out.insertBefore(summary, out.firstChild);
    // The zones now link to their fit report.
    Array.prototype.forEach.call(out.querySelectorAll("#ln-zones tr[data-code]"), function (tr) {
      var cell = tr.firstChild, code = tr.getAttribute("data-code");
      var link = el("a", { href: "/reports/" + encodeURIComponent(id) + "/" + encodeURIComponent(code), text: cell.textContent });
      cell.textContent = "";
      cell.appendChild(link);
    });
    this.listed(layer);
  };

  // The list of imported layers shows the new one at once (no reload).
  Importer.prototype.listed = function (layer) {
    var table = byId("ln-layers"), none = byId("ln-none");
    if (!table) { return; }
    table.hidden = false;
    if (none) { none.hidden = true; }
    var a = encodeURIComponent(layer.id);
    var remove = el("button", { type: "button", "data-delete-layer": layer.id, text: "verwijderen" });
    var cells = [el("td", {}, [layer.name + " ", el("small", { text: "(" + layer.id + ")" })]),
                 el("td", { className: "num", text: String(layer.zone_count) }), el("td", { text: layer.source || "" }),
                 el("td", {}, [el("a", { href: "/werkbank?base=" + a, text: "werkbank" })].concat(
                   this.data.compare ? [" · ", el("a", { href: "/maps/overlay?a=" + a + "&b=" + encodeURIComponent(this.data.compare.id), text: "kaart" }),
                                        " · ", el("a", { href: "/overlay?a=" + a + "&b=" + encodeURIComponent(this.data.compare.id), text: "overlaytabel" })] : [],
                   [" · ", remove]))];
    table.querySelector("tbody").appendChild(el("tr", { "data-layer": layer.id }, cells));
    this.deletable(remove);
  };

  // The preview on a map: each municipality in the colour of the zone that holds most of it,
  // the view on the part of Flanders the layer covers (a Limburg layer opens on Limburg).
  Importer.prototype.drawMap = function (members) {
    var box = byId("ln-map"), self = this;
    if (!box || !window.L) { return; }
    if (!members || !members.length) { box.hidden = true; return; }
    box.hidden = false;
    if (!this.map) {
      this.map = baseMap("ln-map");
      this.map.attributionControl.addAttribution(this.data.attribution || "");
    }
    var zoneOf = {}, colourOf = {}, n = 0;
    members.forEach(function (m) {
      var key = String(m.nis_code), best = zoneOf[key];
      if (!best || m.share > best.share) { zoneOf[key] = m; }
      if (colourOf[m.zone_code] === undefined) { colourOf[m.zone_code] = PALETTE[n++ % PALETTE.length]; }
    });
    var geometry = this.geometry || fetchJSON(this.data.geometry_url).then(function (res) {
      if (!res.ok) { throw new Error("de kaart kon niet geladen worden (" + res.status + ")"); }
      return res.body;
    });
    this.geometry = geometry;
    return geometry.then(function (body) {
      if (self.layer) { self.map.removeLayer(self.layer); }
      var covered = [];
      self.layer = L.geoJSON(body, {
        style: function (f) {
          var m = zoneOf[String(f.properties.code)];
          return m ? { fillColor: colourOf[m.zone_code], fillOpacity: 0.35 + 0.45 * m.share, color: "#555", weight: 0.6 }
                   : { fillColor: NO_ZONE, fillOpacity: 0.2, color: "#aaa", weight: 0.4 };
        },
        onEachFeature: function (f, l) {
          var m = zoneOf[String(f.properties.code)];
          if (m) { covered.push(l); }
          l.bindTooltip(escapeHtml(f.properties.name) + (m ? "<br>" + escapeHtml(m.zone_name + " (" + m.zone_code + ")") +
            (m.share < 0.9995 ? ", " + pct(m.share) : "") : "<br>in geen zone"), { sticky: true });
        }
      }).addTo(self.map);
      if (covered.length) { self.map.fitBounds(L.featureGroup(covered).getBounds(), { padding: [12, 12], animate: false }); }
      document.body.setAttribute("data-preview-map", String(covered.length));
    }).catch(function () { box.hidden = true; });  // the table below still says everything
  };

  Importer.prototype.showPreview = function (res, saving) {
    var out = byId("ln-preview");
    out.textContent = "";
    this.drawMap(res.ok && res.body.members ? res.body.members : []);
    var problems = res.ok ? res.body.problems : [res.status === 401 ? "Meld u eerst aan." : String(res.body && res.body.detail)];
    if (problems.length) {
      var head = problems.length === 1 ? "Eén probleem" : problems.length + " problemen";
      out.appendChild(el("p", { className: "fail", text: head + (saving ? "; er is niets opgeslagen:" : ":") }));
      var ul = el("ul", { id: "ln-problems" });
      problems.forEach(function (p) { ul.appendChild(el("li", { className: "fail", text: String(p) })); });
      out.appendChild(ul);
    }
    if (!res.ok || !res.body.members || !res.body.members.length) { return; }
    var b = res.body;
    out.appendChild(el("p", { text: (b.zone_count === 1 ? "1 zone, " : b.zone_count + " zones, ") + b.members.length +
      (b.members.length === 1 ? " gemeente" : " gemeenten") + " herkend, samen " + nl(b.population) +
      " inwoners (1 januari " + b.population_year + ")." }));
    if (b.weighting) { out.appendChild(el("p", { className: "muted", id: "ln-weighting", text: b.weighting })); }
    if (b.dropped && b.dropped.length && !saving) {
      out.appendChild(el("p", { className: "fail", text: "Wordt niet opgenomen:" }));
      var dropped = el("ul", { className: "ln-dropped" });
      b.dropped.forEach(function (d) { dropped.appendChild(el("li", { className: "fail", text: d })); });
      out.appendChild(dropped);
    }
    var zones = el("table", { id: "ln-zones" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "Zone" }),
      el("th", { className: "num", text: "Gemeenten" }), el("th", { className: "num", text: "Inwoners" })])])]);
    var zbody = el("tbody");
    (b.zones || []).forEach(function (z) {
      zbody.appendChild(el("tr", { "data-code": z.code }, [el("td", { text: z.name + " (" + z.code + ")" }),
        el("td", { className: "num", text: String(z.members) }), el("td", { className: "num", text: nl(z.population) })]));
    });
    zones.appendChild(zbody);
    out.appendChild(zones);
    var table = el("table", { id: "ln-members" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "Gemeente" }), el("th", { text: "Zone" }),
      el("th", { className: "num", text: "Aandeel" }), el("th", { className: "num", text: "Inwoners" })])])]);
    var tbody = el("tbody");
    b.members.forEach(function (m) {
      tbody.appendChild(el("tr", {}, [el("td", { text: m.municipality + " (" + m.nis_code + ")" }),
        el("td", { text: m.zone_name + " (" + m.zone_code + ")" }), el("td", { className: "num", text: pct(m.share) }),
        el("td", { className: "num", text: nl(m.population) })]));
    });
    table.appendChild(tbody);
    out.appendChild(el("details", {}, [el("summary", { text: "Per gemeente" }), table]));
  };

  // ------------------------------------------------------------------------------------------------
  function boot() {
    var wb = readData("wb-data");
    if (wb) { window.regiomatchWorkbench = new Workbench(wb); window.regiomatchWorkbench.start(); }
    var cmp = readData("cmp-data");
    if (cmp) { new Comparison(cmp).start(); }
    var ln = readData("ln-data");
    if (ln) { window.regiomatchImporter = new Importer(ln); window.regiomatchImporter.start(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
}());
