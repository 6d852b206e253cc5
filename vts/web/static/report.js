/* vts replay report: tracks by category, alert markers with details, an alert list in time order
 * with each alert's last step and a severity filter, a time slider with play.
 * AIS text and alert messages reach the page through textContent only (never innerHTML). */
(function () {
  'use strict';

  var COLOURS = {
    cargo: '#2e9e44', tanker: '#9c2a1b', passenger: '#1565c0', fishing: '#f08c2e', tug: '#00a3b8',
    pilot: '#00796b', law_enforcement: '#303f9f', sar: '#fbc02d', pleasure: '#d81b60', sailing: '#8e24aa',
    other: '#6d6d6d', unknown: '#8f8f8f'
  };
  var SEVERITY = { emergency: '#ff1744', alarm: '#ff6d00', warning: '#ffc400', caution: '#40c4ff', info: '#b0bec5' };
  var SEVERITY_RANK = { emergency: 0, alarm: 1, warning: 2, caution: 3, info: 4 };
  var COORD_SCALE = 1e5;

  function el(tag, attrs) {
    var n = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') n.textContent = attrs[k]; else if (k === 'cls') n.className = attrs[k]; else n.setAttribute(k, attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) n.appendChild(typeof arguments[i] === 'string' ? document.createTextNode(arguments[i]) : arguments[i]);
    return n;
  }
  function iso(t) { return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ') + 'Z'; }
  function rank(severity) { return SEVERITY_RANK[severity] !== undefined ? SEVERITY_RANK[severity] : 5; }

  // index of the last sample at or before t (-1 when none)
  function lastIndex(times, t) {
    var lo = 0, hi = times.length - 1, ans = -1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (times[mid] <= t) { ans = mid; lo = mid + 1; } else hi = mid - 1; }
    return ans;
  }

  // the tracks are delta-encoded (see ReplayRecorder.data): absolute times and degrees
  function decode(data) {
    var t0 = data.t0 || 0;
    data.vessels.forEach(function (v) {
      var t = 0, lat = 0, lon = 0;
      v.t = v.t.map(function (d) { t += d; return t0 + t; });
      v.p = v.p.map(function (d) { lat += d[0]; lon += d[1]; return [lat / COORD_SCALE, lon / COORD_SCALE]; });
      v.e = t0 + v.e;
    });
  }

  var R = (window.VTSReport = {});

  // a time of day, with the date when the log spans more than one (UTC) day
  R.clock = function (t) {
    var s = iso(t);
    return R.multiDay ? s.slice(5, 10) + ' ' + s.slice(11) : s.slice(11);
  };

  // its latest state and when: cleared, still active when the log ended, or a one-off event
  function lastStep(a) {
    var steps = a.steps > 1 ? ' (' + a.steps + ' steps)' : '';
    if (a.state === 'cleared') return 'cleared ' + R.clock(a.last_t) + steps;
    if (a.active_at_end === false && a.steps === 1) return 'one-off event (nothing to clear)';
    return a.state + ' ' + R.clock(a.last_t) + steps + (a.active_at_end ? ' · still active at the end of the log' : '');
  }

  function popupNode(a) {
    var t = el('table', { cls: 'r-pop' });
    function row(k, v) { t.appendChild(el('tr', null, el('th', { text: k }), el('td', { text: v === null || v === undefined || v === '' ? '—' : String(v) }))); }
    row('Alert', a.severity + ' · ' + a.type);
    if (a.peak && a.peak !== a.severity) row('Most severe', a.peak);
    row('Vessel', (a.name ? a.name + ' · ' : '') + 'MMSI ' + a.mmsi + (a.other_mmsi ? ' / ' + a.other_mmsi : ''));
    row('Zone', a.zone);
    row('Started', a.started);
    row('Last step', a.state + ' ' + a.time + (a.steps > 1 ? ' (' + a.steps + ' steps)' : '') + (a.active_at_end ? ', still active at the end of the log' : ''));
    row('Message', a.raised_message);
    if (a.message !== a.raised_message) row('Last message', a.message);
    if (a.located === 'track') row('Position', "the vessel's track when it was raised (the alert carries none)");
    Object.keys(a.details || {}).forEach(function (k) {
      var v = a.details[k];
      row(k, typeof v === 'object' ? JSON.stringify(v) : v);
    });
    return t;
  }

  R.init = function (map, data, layers) {
    var meta = JSON.parse(document.getElementById('vts-report-meta').textContent);
    decode(data);
    R.map = map; R.data = data;
    R.multiDay = data.t0 !== null && iso(data.t0).slice(0, 10) !== iso(data.t1).slice(0, 10);
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
      R.tracks.push({ v: v, full: full, done: done, ship: ship, i: -1 });
      v.p.forEach(function (p) { bounds.extend(p); });
    });
    data.alerts.forEach(function (a) {
      if (a.lat === null || a.lon === null) return;
      var mk = L.circleMarker([a.lat, a.lon], { radius: 8, color: '#000', weight: 1.5, fillColor: SEVERITY[a.peak] || '#999', fillOpacity: 0.9 });
      mk.bindPopup(function () { return popupNode(a); }, { maxWidth: 340 });
      mk.addTo(alertsLayer);
      R.alertMarkers.push({ a: a, mk: mk });
    });
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.1));
    R.shipsLayer = shipsLayer; R.alertsLayer = alertsLayer;
    buildSide(meta, data);
    buildBar(data);
    R.setSeverity('');
    R.setTime(data.t1 !== null ? data.t1 : 0);
  };

  function vesselCounts(data) {
    var c = data.vessel_counts || {};
    var text = data.vessels.length + ' vessels with positions';
    if (c.heard !== undefined && c.heard !== data.vessels.length) text += ' (' + c.heard + ' heard)';
    if (c.tracked_at_end !== null && c.tracked_at_end !== undefined) {
      text += '; ' + c.tracked_at_end + ' still tracked at the end' + (data.forget_s ? ' (heard within ' + Math.round(data.forget_s / 60) + ' min)' : '') + ": the replay summary's 'vessels'";
    }
    return text;
  }

  function buildSide(meta, data) {
    var side = el('div', { id: 'r-side' });
    side.appendChild(el('h1', { text: meta.title }));
    side.appendChild(el('div', { cls: 'meta', text: (meta.source ? meta.source + ' · ' : '') + (data.t0 !== null ? iso(data.t0) + ' → ' + iso(data.t1) : 'empty log') }));
    side.appendChild(el('div', { cls: 'meta', id: 'r-counts', text: vesselCounts(data) + ' · ' + data.alerts.length + ' alerts' + (data.thinned ? ' · tracks thinned to fit the file' : '') }));
    var filter = el('select', { id: 'r-sev', 'aria-label': 'alert severity' });
    var counts = {};
    data.alerts.forEach(function (a) { counts[a.peak] = (counts[a.peak] || 0) + 1; });
    var atLeast = 0;
    var options = [];
    data.severities.forEach(function (s) {
      atLeast += counts[s] || 0;
      var label = s === data.severities[0] ? s + ' only' : s + ' and above';
      options.push(el('option', { value: s, text: label + ' (' + atLeast + ')' }));
    });
    filter.appendChild(el('option', { value: '', text: 'all severities (' + data.alerts.length + ')' }));
    options.slice(0, -1).forEach(function (o) { filter.appendChild(o); });  // (info and above: all)
    filter.addEventListener('change', function () { R.setSeverity(filter.value); });
    var badges = el('div', { cls: 'r-badges', title: 'alerts by their most severe step; click: that severity and above' });
    data.severities.forEach(function (s) {
      var b = el('span', { cls: 'r-badge', 'data-sev': s, title: s, text: String(counts[s] || 0) });
      b.style.setProperty('--c', SEVERITY[s]);
      if (!counts[s]) b.classList.add('zero');
      b.addEventListener('click', function () { R.setSeverity(s === data.severities[data.severities.length - 1] ? '' : s); });
      badges.appendChild(b);
    });
    side.appendChild(el('h2', null, 'Alerts ', el('span', { id: 'r-shown', cls: 'count' })));
    side.appendChild(el('div', { cls: 'r-filter' }, filter, badges));
    var list = el('div', { id: 'r-alerts' });
    if (data.alerts.length === 0) list.appendChild(el('div', { cls: 'meta', text: 'No alerts in this replay.' }));
    R.alertRows = [];
    data.alerts.forEach(function (a) {
      var rowNode = el('div', { cls: 'r-alert sev-' + a.peak, 'data-alert-id': a.id, 'data-state': a.state },
        el('span', { cls: 'tm', text: R.clock(a.started_t) }),
        el('div', { cls: 'sev', text: a.peak + ' · ' + a.type.replace(/_/g, ' ') }),
        el('div', { cls: 'msg', text: (a.name ? a.name + ' · ' : '') + 'MMSI ' + a.mmsi + (a.other_mmsi ? ' / ' + a.other_mmsi : '') }),
        el('div', { cls: 'msg', text: a.raised_message }),
        el('div', { cls: 'last' },
          el('span', { cls: 'state st-' + (a.active_at_end === false && a.state !== 'cleared' ? 'event' : a.state), text: lastStep(a) }),
          a.message !== a.raised_message ? el('div', { cls: 'msg', text: a.message }) : null),
        a.lat === null ? el('div', { cls: 'nopos', text: 'no position known' }) : null);
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
    R.severityFilter = filter;
  }

  // only alerts whose most severe step is `severity` or above ('' or null: all)
  R.setSeverity = function (severity) {
    R.minSeverity = severity || '';
    if (R.severityFilter) R.severityFilter.value = R.minSeverity;
    var limit = R.minSeverity ? rank(R.minSeverity) : Infinity;
    function shown(a) { return rank(a.peak) <= limit; }
    var listed = 0;
    (R.alertRows || []).forEach(function (r) {
      var on = shown(r.a);
      r.node.hidden = !on;
      if (on) listed++;
    });
    R.alertMarkers.forEach(function (x) {
      var on = shown(x.a);
      if (on && !R.alertsLayer.hasLayer(x.mk)) R.alertsLayer.addLayer(x.mk);
      else if (!on && R.alertsLayer.hasLayer(x.mk)) R.alertsLayer.removeLayer(x.mk);
    });
    document.querySelectorAll('.r-badge').forEach(function (b) { b.classList.toggle('off', rank(b.getAttribute('data-sev')) > limit); });
    var count = document.getElementById('r-shown');
    if (count) count.textContent = listed === R.data.alerts.length ? '(' + listed + ')' : '(' + listed + ' of ' + R.data.alerts.length + ')';
    document.body.setAttribute('data-alerts-listed', String(listed));
  };

  function buildBar(data) {
    var slider = el('input', { id: 'r-slider', type: 'range', min: String(data.t0 || 0), max: String(data.t1 || 0), step: 'any', 'aria-label': 'replay time' });
    slider.value = String(data.t1 || 0);
    slider.addEventListener('input', function () { R.setTime(Number(slider.value)); });
    var play = el('button', { id: 'r-play', type: 'button', text: 'play' });
    var speed = el('select', { id: 'r-speed', 'aria-label': 'speed' });
    [10, 60, 300, 1200].forEach(function (s) { speed.appendChild(el('option', { value: String(s), text: '×' + s })); });
    speed.value = '60';
    var timer = null;
    function stop() { clearInterval(timer); timer = null; play.textContent = 'play'; }
    play.addEventListener('click', function () {
      if (timer) { stop(); return; }
      if (R.time >= data.t1) R.setTime(data.t0);
      play.textContent = 'pause';
      timer = setInterval(function () {
        var next = R.time + Number(speed.value) * 0.1;
        if (next >= data.t1) { next = data.t1; stop(); }
        R.setTime(next);
      }, 100);
    });
    var legend = el('div', { cls: 'r-legend' });
    data.categories.forEach(function (c) { var s = el('span', { text: c.replace('_', ' ') }); s.style.setProperty('--c', COLOURS[c]); legend.appendChild(s); });
    Object.keys(SEVERITY).forEach(function (s) { var n = el('span', { text: 'alert: ' + s }); n.style.setProperty('--c', SEVERITY[s]); legend.appendChild(n); });
    legend.appendChild(el('span', { cls: 'hollow', text: 'alert cleared (hollow)' }));
    var bar = el('div', { id: 'r-bar' },
      el('div', { cls: 'row' }, play, speed, el('span', { id: 'r-time' }), slider),
      el('div', { cls: 'row' }, el('span', { id: 'r-now', cls: 'now' }), legend));
    document.body.appendChild(bar);
    R.slider = slider;
  }

  R.setTime = function (t) {
    var data = R.data;
    if (data.t0 !== null) t = Math.min(Math.max(t, data.t0), data.t1);
    R.time = t;
    if (R.slider) R.slider.value = String(t);
    var label = document.getElementById('r-time');
    if (label) label.textContent = data.t0 !== null ? iso(t) : '—';
    var forget = data.forget_s;
    var shown = 0;
    R.tracks.forEach(function (tr) {
      var v = tr.v, i = lastIndex(v.t, t);
      if (i !== tr.i) {  // (only what changed: playing a big log stays smooth)
        tr.done.setLatLngs(i < 0 ? [] : v.p.slice(0, i + 1));
        if (i >= 0) tr.ship.setLatLng(v.p[i]);
        tr.i = i;
      }
      // shown while the tracker would still track it: heard within its forget time
      var heard = i < 0 ? null : (i === v.t.length - 1 ? Math.max(v.t[i], Math.min(v.e, t)) : v.t[i]);
      var on = heard !== null && (forget === null || forget === undefined || t - heard <= forget);
      if (on && !R.shipsLayer.hasLayer(tr.ship)) R.shipsLayer.addLayer(tr.ship);
      else if (!on && R.shipsLayer.hasLayer(tr.ship)) R.shipsLayer.removeLayer(tr.ship);
      if (on) shown++;
    });
    var raised = 0, active = 0;
    data.alerts.forEach(function (a) {  // (a one-off event is raised, never active)
      if (a.started_t <= t) { raised++; if (a.end_t !== null ? a.end_t > t : a.active_at_end !== false) active++; }
    });
    R.alertMarkers.forEach(function (x) {
      var a = x.a, on = a.started_t <= t, ended = a.end_t !== null && a.end_t <= t;
      // raised: filled; cleared by then: hollow, in its colour; not yet raised: faint
      x.mk.setStyle({ fillOpacity: !on ? 0.15 : ended ? 0 : 0.9, opacity: on ? 1 : 0.3, color: ended ? SEVERITY[a.peak] || '#999' : '#000', weight: ended ? 2.5 : 1.5 });
    });
    (R.alertRows || []).forEach(function (r) {
      r.node.classList.toggle('future', r.a.started_t > t);
      r.node.classList.toggle('ended', r.a.end_t !== null && r.a.end_t <= t);
    });
    var now = document.getElementById('r-now');
    if (now) now.textContent = shown + ' vessels tracked · ' + active + ' alerts active at this time';
    document.body.setAttribute('data-ships-shown', String(shown));
    document.body.setAttribute('data-alerts-raised', String(raised));
    document.body.setAttribute('data-alerts-active', String(active));
  };
})();
