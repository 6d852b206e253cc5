/* vts replay report: tracks by category, alert markers with details, a time slider with play.
 * AIS text and alert messages reach the page through textContent only (never innerHTML). */
(function () {
  'use strict';

  var COLOURS = {
    cargo: '#2e9e44', tanker: '#9c2a1b', passenger: '#1565c0', fishing: '#f08c2e', tug: '#00a3b8',
    pilot: '#00796b', law_enforcement: '#303f9f', sar: '#fbc02d', pleasure: '#d81b60', sailing: '#8e24aa',
    other: '#6d6d6d', unknown: '#8f8f8f'
  };
  var SEVERITY = { emergency: '#ff1744', alarm: '#ff6d00', warning: '#ffc400', caution: '#40c4ff', info: '#b0bec5' };

  function el(tag, attrs) {
    var n = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') n.textContent = attrs[k]; else if (k === 'cls') n.className = attrs[k]; else n.setAttribute(k, attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) n.appendChild(typeof arguments[i] === 'string' ? document.createTextNode(arguments[i]) : arguments[i]);
    return n;
  }
  function iso(t) { return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ') + 'Z'; }

  // index of the last sample at or before t (-1 when none)
  function lastIndex(times, t) {
    var lo = 0, hi = times.length - 1, ans = -1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (times[mid] <= t) { ans = mid; lo = mid + 1; } else hi = mid - 1; }
    return ans;
  }

  var R = (window.VTSReport = {});

  function popupNode(a) {
    var t = el('table', { cls: 'r-pop' });
    function row(k, v) { t.appendChild(el('tr', null, el('th', { text: k }), el('td', { text: v === null || v === undefined || v === '' ? '—' : String(v) }))); }
    row('Alert', a.severity + ' · ' + a.type);
    row('Vessel', (a.name ? a.name + ' · ' : '') + 'MMSI ' + a.mmsi + (a.other_mmsi ? ' / ' + a.other_mmsi : ''));
    row('Zone', a.zone);
    row('Started', a.started);
    row('Last step', a.state + ' ' + a.time);
    row('Message', a.message);
    Object.keys(a.details || {}).forEach(function (k) {
      var v = a.details[k];
      row(k, typeof v === 'object' ? JSON.stringify(v) : v);
    });
    return t;
  }

  R.init = function (map, data, layers) {
    var meta = JSON.parse(document.getElementById('vts-report-meta').textContent);
    R.map = map; R.data = data;
    map.attributionControl.setPrefix('Leaflet');
    if (meta.attribution) { var d = document.createElement('div'); d.textContent = meta.attribution; map.attributionControl.addAttribution(d.innerHTML); }
    // the layers are the page's (folium) feature groups: the map's one layer control lists them
    var tracksLayer = layers.tracks, shipsLayer = layers.ships, alertsLayer = layers.alerts;
    R.tracks = []; R.ships = []; R.alertMarkers = [];
    var bounds = L.latLngBounds([]);
    data.vessels.forEach(function (v) {
      var colour = COLOURS[v.c] || COLOURS.unknown;
      var full = L.polyline(v.p, { color: colour, weight: 1.5, opacity: 0.35, interactive: false }).addTo(tracksLayer);
      var done = L.polyline([], { color: colour, weight: 2.5, opacity: 0.95, interactive: false }).addTo(tracksLayer);
      var ship = L.circleMarker(v.p[0], { radius: 5, color: '#111', weight: 1, fillColor: colour, fillOpacity: 1 });
      ship.bindTooltip(function () { return el('span', { text: (v.n || 'MMSI ' + v.m) + ' · ' + v.m + ' · ' + v.c }); });
      R.tracks.push({ v: v, full: full, done: done, ship: ship });
      v.p.forEach(function (p) { bounds.extend(p); });
    });
    data.alerts.forEach(function (a) {
      if (a.lat === null || a.lon === null) return;
      var mk = L.circleMarker([a.lat, a.lon], { radius: 8, color: '#000', weight: 1.5, fillColor: SEVERITY[a.severity] || '#999', fillOpacity: 0.9 });
      mk.bindPopup(function () { return popupNode(a); }, { maxWidth: 340 });
      mk.addTo(alertsLayer);
      R.alertMarkers.push({ a: a, mk: mk });
    });
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.1));
    R.shipsLayer = shipsLayer;
    buildSide(meta, data);
    buildBar(data);
    R.setTime(data.t1 !== null ? data.t1 : 0);
  };

  function buildSide(meta, data) {
    var side = el('div', { id: 'r-side' });
    side.appendChild(el('h1', { text: meta.title }));
    side.appendChild(el('div', { cls: 'meta', text: (meta.source ? meta.source + ' · ' : '') + (data.t0 !== null ? iso(data.t0) + ' → ' + iso(data.t1) : 'empty log') + ' · ' + data.vessels.length + ' vessels · ' + data.alerts.length + ' alerts' }));
    side.appendChild(el('h2', { text: 'Alerts' }));
    var list = el('div', { id: 'r-alerts' });
    if (data.alerts.length === 0) list.appendChild(el('div', { cls: 'meta', text: 'No alerts in this replay.' }));
    R.alertRows = [];
    data.alerts.forEach(function (a, i) {
      var rowNode = el('div', { cls: 'r-alert sev-' + a.severity, 'data-alert-id': a.id },
        el('span', { cls: 'tm', text: a.started.slice(11, 19) + 'Z' }),
        el('div', { cls: 'sev', text: a.severity + ' · ' + a.type.replace(/_/g, ' ') }),
        el('div', { cls: 'msg', text: (a.name ? a.name + ' · ' : '') + 'MMSI ' + a.mmsi }),
        el('div', { cls: 'msg', text: a.message }));
      rowNode.addEventListener('click', function () {
        R.setTime(a.started_t);
        var m = R.alertMarkers.filter(function (x) { return x.a.id === a.id; })[0];
        if (m) { R.map.flyTo(m.mk.getLatLng(), Math.max(R.map.getZoom(), 14), { duration: 0.5 }); m.mk.openPopup(); }
      });
      R.alertRows.push({ a: a, node: rowNode });
      list.appendChild(rowNode);
    });
    side.appendChild(list);
    document.body.appendChild(side);
  }

  function buildBar(data) {
    var slider = el('input', { id: 'r-slider', type: 'range', min: String(data.t0 || 0), max: String(data.t1 || 0), step: '1', 'aria-label': 'replay time' });
    slider.value = String(data.t1 || 0);
    slider.addEventListener('input', function () { R.setTime(Number(slider.value)); });
    var play = el('button', { id: 'r-play', type: 'button', text: 'play' });
    var speed = el('select', { id: 'r-speed', 'aria-label': 'speed' });
    [10, 60, 300, 1200].forEach(function (s) { speed.appendChild(el('option', { value: String(s), text: '×' + s })); });
    speed.value = '60';
    var timer = null;
    play.addEventListener('click', function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = 'play'; return; }
      if (R.time >= data.t1) R.setTime(data.t0);
      play.textContent = 'pause';
      timer = setInterval(function () {
        var next = R.time + Number(speed.value) * 0.1;
        if (next >= data.t1) { next = data.t1; clearInterval(timer); timer = null; play.textContent = 'play'; }
        R.setTime(next);
      }, 100);
    });
    var legend = el('div', { cls: 'r-legend' });
    data.categories.forEach(function (c) { var s = el('span', { text: c.replace('_', ' ') }); s.style.setProperty('--c', COLOURS[c]); legend.appendChild(s); });
    Object.keys(SEVERITY).forEach(function (s) { var n = el('span', { text: 'alert: ' + s }); n.style.setProperty('--c', SEVERITY[s]); legend.appendChild(n); });
    var bar = el('div', { id: 'r-bar' }, el('div', { cls: 'row' }, play, speed, el('span', { id: 'r-time' }), slider), legend);
    document.body.appendChild(bar);
    R.slider = slider;
  }

  R.setTime = function (t) {
    R.time = t;
    if (R.slider) R.slider.value = String(t);
    var label = document.getElementById('r-time');
    if (label) label.textContent = R.data.t0 !== null ? iso(t) : '—';
    var shown = 0;
    R.tracks.forEach(function (tr) {
      var i = lastIndex(tr.v.t, t);
      if (i < 0) { tr.done.setLatLngs([]); if (R.shipsLayer.hasLayer(tr.ship)) R.shipsLayer.removeLayer(tr.ship); return; }
      tr.done.setLatLngs(tr.v.p.slice(0, i + 1));
      tr.ship.setLatLng(tr.v.p[i]);
      if (!R.shipsLayer.hasLayer(tr.ship)) R.shipsLayer.addLayer(tr.ship);
      shown++;
    });
    var raised = 0;
    R.alertMarkers.forEach(function (x) {
      var on = x.a.started_t <= t;
      x.mk.setStyle({ fillOpacity: on ? 0.9 : 0.15, opacity: on ? 1 : 0.3 });
      if (on) raised++;
    });
    (R.alertRows || []).forEach(function (r) { r.node.classList.toggle('future', r.a.started_t > t); });
    document.body.setAttribute('data-ships-shown', String(shown));
    document.body.setAttribute('data-alerts-raised', String(raised));
  };
})();
