/* vts live map: canvas ship symbols, alert panel, vessel list, details, measure tool, feed health.
 *
 * Safety rule for this file: AIS text (names, call signs, destinations, alert messages) is sent by
 * anyone with a transmitter. It only ever reaches the page through textContent / DOM nodes, never
 * innerHTML or an HTML string (Leaflet tooltips get DOM nodes too).
 */
(function () {
  'use strict';

  var VTS = (window.VTS = {});

  var CATEGORY_COLOURS = {
    cargo: '#2e9e44', tanker: '#9c2a1b', passenger: '#1565c0', fishing: '#f08c2e', tug: '#00a3b8',
    pilot: '#00796b', law_enforcement: '#303f9f', sar: '#fbc02d', pleasure: '#d81b60', sailing: '#8e24aa',
    other: '#6d6d6d', unknown: '#8f8f8f'
  };
  var SEVERITY_COLOURS = {
    emergency: '#ff1744', alarm: '#ff6d00', warning: '#ffc400', caution: '#40c4ff', info: '#b0bec5'
  };
  var SEVERITY_ABBR = { emergency: 'EMERG', alarm: 'ALARM', warning: 'WARN', caution: 'CAUT', info: 'INFO' };
  var SEVERITY_RANK = { emergency: 0, alarm: 1, warning: 2, caution: 3, info: 4 };
  function rank(severity) {
    return SEVERITY_RANK[severity] !== undefined ? SEVERITY_RANK[severity] : 5;
  }
  // A vessel is marked as alerting (red outline, red name in the list) for an alert above
  // information level: zone entries and exits (info) concern most ships in the bay at any time.
  function marks(severity) {
    return severity !== undefined && severity !== null && rank(severity) < SEVERITY_RANK.info;
  }
  var ALERT_OUTLINE = '#ff1744';
  var STALE_FILL = '#b8b8b8';
  var KN_TO_MS = 1852 / 3600;

  VTS.opts = null;
  VTS.map = null;
  VTS.layer = null;
  VTS.selected = null;
  VTS.openAlert = null;  // id of the alert whose evidence is shown (the one the operator selected)
  VTS.alerts = new Map();
  VTS.muted = false;
  VTS.stats = null;
  VTS.drafts = new Map();  // alert id -> acknowledgement note being typed (kept across re-renders)
  VTS.acking = new Set();  // alert ids whose acknowledgement is on its way
  VTS.ackErrors = new Map();  // alert id -> why its acknowledgement did not go through (shown on the card)

  // -- small DOM helpers (text only) ------------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') node.textContent = attrs[k];
        else if (k === 'cls') node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  // Enter or Space on a focused item (a list row, an alert card) acts as a click on it.
  function onActivate(node, action) {
    node.setAttribute('tabindex', '0');
    node.addEventListener('keydown', function (e) {
      if (e.target !== node || (e.key !== 'Enter' && e.key !== ' ')) return;
      e.preventDefault();
      action();
    });
  }
  // The panels are rebuilt as data arrives: the item that had the keyboard focus (and the caret of
  // a note being typed) gets it back, by the item's key attribute (data-alert-id, data-mmsi).
  function focusWithin(box, key) {
    var a = document.activeElement;
    if (!a || a === box || !box.contains(a)) return null;
    var item = a.closest('[' + key + ']');
    if (!item) return null;
    var input = a.tagName === 'INPUT';
    return {
      value: item.getAttribute(key), tag: a === item ? null : a.tagName,
      start: input ? a.selectionStart : null, end: input ? a.selectionEnd : null
    };
  }
  function restoreFocus(box, key, f) {
    if (!f) return;
    var item = box.querySelector('[' + key + '="' + CSS.escape(f.value) + '"]');
    var target = item && f.tag ? item.querySelector(f.tag.toLowerCase()) : item;
    if (!target) return;
    target.focus({ preventScroll: true });
    if (f.start !== null && target.tagName === 'INPUT') target.setSelectionRange(f.start, f.end);
  }
  function fmtNum(v, digits, unit) {
    if (v === null || v === undefined || Number.isNaN(v)) return '—';
    return Number(v).toFixed(digits) + (unit || '');
  }
  function fmtTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(11, 19) + 'Z';
  }
  function fmtDateTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(0, 19).replace('T', ' ') + 'Z';
  }
  function fmtAge(s) {
    if (s === null || s === undefined) return '';
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    return (s / 3600).toFixed(1) + ' h ago';
  }
  function dm(v, pos, neg) {
    var a = Math.abs(v), d = Math.floor(a), m = (a - d) * 60;
    return d + '°' + m.toFixed(3).padStart(6, '0') + "'" + (v >= 0 ? pos : neg);
  }
  function vesselLabel(p) {
    return (p.n ? p.n : 'MMSI ' + p.m);
  }
  // A server that accepts the connection but does not answer (hung, or starved by a flood of data)
  // must not leave the page saying "connected" over a frozen picture: a request is given up after
  // this long and the page shows NO CONNECTION until the server answers again.
  VTS.requestTimeoutMs = 8000;
  function getJSON(url) {
    var limit = VTS.requestTimeoutMs;
    var abort = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, limit) : null;
    var opts = { cache: 'no-store', credentials: 'same-origin' };
    if (abort) opts.signal = abort.signal;
    return fetch(url, opts).then(function (r) {
      if (!r.ok) {
        var e = new Error(url + ': HTTP ' + r.status);
        e.status = r.status;  // the server answered: not a lost connection
        throw e;
      }
      return r.json();
    }).catch(function (err) {
      if (err && err.name === 'AbortError') throw new Error('the server did not answer within ' + limit / 1000 + ' s');
      throw err;
    }).finally(function () { if (timer) clearTimeout(timer); });
  }

  // -- the canvas ship symbol ---------------------------------------------------------------------
  // A CircleMarker drawn as a hull pointing along heading (course when heading is unknown), or a
  // circle when not moving; the course-predictor line is part of the same path (and its bounds).
  L.ShipMarker = L.CircleMarker.extend({
    options: { rotation: null, predictor: null, selected: false, radius: 6 },
    _project: function () {
      this._predPoint = this.options.predictor && this._map ? this._map.latLngToLayerPoint(this.options.predictor) : null;
      L.CircleMarker.prototype._project.call(this);
    },
    _updateBounds: function () {
      L.CircleMarker.prototype._updateBounds.call(this);
      var extra = this.options.selected ? 6 : 0;
      if (extra) this._pxBounds = new L.Bounds(this._pxBounds.min.subtract([extra, extra]), this._pxBounds.max.add([extra, extra]));
      if (this._predPoint) {
        this._pxBounds.extend(this._predPoint.subtract([2, 2]));
        this._pxBounds.extend(this._predPoint.add([2, 2]));
      }
    },
    _updatePath: function () {
      var r = this._renderer;
      if (!(r instanceof L.Canvas)) return L.CircleMarker.prototype._updatePath.call(this);
      if (!r._drawing || this._empty()) return;
      var ctx = r._ctx, p = this._point, s = this._radius, o = this.options;
      if (ctx.setLineDash) ctx.setLineDash([]);  // solid: not the dashes of the path drawn before (a zone)
      if (this._predPoint) {
        ctx.beginPath();
        ctx.moveTo(p.x, p.y);
        ctx.lineTo(this._predPoint.x, this._predPoint.y);
        ctx.lineWidth = 1.2;
        ctx.strokeStyle = o.fillColor;
        ctx.globalAlpha = 0.9;
        ctx.stroke();
      }
      if (o.selected) {
        ctx.beginPath();
        ctx.arc(p.x, p.y, s * 2.1, 0, Math.PI * 2);
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#ffffff';
        ctx.globalAlpha = 1;
        ctx.stroke();
      }
      ctx.beginPath();
      if (o.rotation === null || o.rotation === undefined) {
        ctx.arc(p.x, p.y, s * 0.75, 0, Math.PI * 2);
      } else {
        var a = o.rotation * Math.PI / 180, c = Math.cos(a), sn = Math.sin(a);
        var pts = [[0, -s * 1.9], [s * 0.9, s * 1.1], [0, s * 0.5], [-s * 0.9, s * 1.1]];
        for (var i = 0; i < pts.length; i++) {
          var x = p.x + pts[i][0] * c - pts[i][1] * sn, y = p.y + pts[i][0] * sn + pts[i][1] * c;
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        }
        ctx.closePath();
      }
      r._fillStroke(ctx, this);
    }
  });

  function predictorOf(p, latlng) {
    var minutes = VTS.opts ? VTS.opts.predictorMinutes : 3;
    if (!minutes || p.g === undefined || p.s === undefined || p.s < 0.5 || p.x) return null;
    var d = p.s * KN_TO_MS * minutes * 60, c = p.g * Math.PI / 180;
    var dlat = d * Math.cos(c) / 111320, dlon = d * Math.sin(c) / (111320 * Math.cos(latlng.lat * Math.PI / 180));
    return L.latLng(latlng.lat + dlat, latlng.lng + dlon);
  }

  function symbolOptions(p, latlng) {
    var moving = p.s !== undefined && p.s >= 0.5;
    var rotation = p.h !== undefined ? p.h : (moving && p.g !== undefined ? p.g : null);
    var fill = p.x ? STALE_FILL : (CATEGORY_COLOURS[p.c] || CATEGORY_COLOURS.unknown);
    var alerting = marks(p.a);
    return {
      rotation: rotation,
      predictor: predictorOf(p, latlng),
      selected: VTS.selected === p.m,
      radius: alerting ? 7 : 6,
      fillColor: fill,
      fillOpacity: p.x ? 0.55 : 0.95,
      color: alerting ? ALERT_OUTLINE : (p.x ? '#7a7a7a' : '#1b1b1b'),
      weight: alerting ? 3 : 1,
      opacity: 1
    };
  }

  function tooltipNode(layer) {
    var p = layer.feature.properties;
    var box = el('div', { cls: 'vts-tip' }, el('b', { text: vesselLabel(p) }));
    box.appendChild(el('div', { text: p.m + ' · ' + p.c.replace('_', ' ') + (p.s !== undefined ? ' · ' + p.s.toFixed(1) + ' kn' : '') }));
    if (marks(p.a)) box.appendChild(el('div', { text: 'ALERT: ' + p.a, style: 'color:#c00;font-weight:700' }));
    else if (p.a) box.appendChild(el('div', { text: 'alert: ' + p.a }));
    if (p.x) box.appendChild(el('div', { text: 'stale (no recent report)' }));
    return box;
  }

  VTS.featureId = function (f) { return f.properties.m; };

  VTS.pointToLayer = function (f, latlng) {
    var marker = new L.ShipMarker(latlng, symbolOptions(f.properties, latlng));
    marker.bindTooltip(tooltipNode, { direction: 'top', offset: [0, -8] });
    marker.on('click', function () { VTS.select(marker.feature.properties.m, false); });
    return marker;
  };

  VTS.updateFeature = function (f, old) {
    if (!old) return undefined;
    var c = f.geometry.coordinates, latlng = L.latLng(c[1], c[0]);
    old.feature = f;
    var o = symbolOptions(f.properties, latlng);
    L.Util.setOptions(old, o);
    old._radius = o.radius;
    old.setLatLng(latlng);
    return old;
  };

  // -- selection, details, trail ------------------------------------------------------------------
  function layerOf(mmsi) {
    return VTS.layer ? VTS.layer.getLayer(mmsi) : null;
  }

  function restyle(mmsi) {
    var layer = layerOf(mmsi);
    if (layer) VTS.updateFeature(layer.feature, layer);
  }

  VTS.select = function (mmsi, fly) {
    var previous = VTS.selected;
    VTS.selected = mmsi;
    if (previous !== null && previous !== mmsi) restyle(previous);
    restyle(mmsi);
    var layer = layerOf(mmsi);
    if (fly && layer) VTS.map.flyTo(layer.getLatLng(), Math.max(VTS.map.getZoom(), 14), { duration: 0.6 });
    document.querySelectorAll('.vts-row.selected').forEach(function (r) { r.classList.remove('selected'); });
    var row = document.querySelector('.vts-row[data-mmsi="' + Number(mmsi) + '"]');
    if (row) {
      row.classList.add('selected');
      row.scrollIntoView({ block: 'nearest' });  // selected on the map or from an alert: show it in the list
    }
    return VTS.refreshDetails();
  };

  VTS.deselect = function () {
    var previous = VTS.selected;
    VTS.selected = null;
    if (previous !== null) restyle(previous);
    VTS.trail.clearLayers();
    document.getElementById('vts-details').classList.add('hidden');
  };

  VTS.refreshDetails = function () {
    var mmsi = VTS.selected;
    if (mmsi === null) return Promise.resolve();
    return getJSON('/api/vessels/' + Number(mmsi)).then(function (v) {
      if (VTS.selected !== mmsi) return;
      renderDetails(v);
      VTS.trail.clearLayers();
      var coords = v.trail && v.trail.coordinates ? v.trail.coordinates : [];
      if (coords.length > 1) {
        L.polyline(coords.map(function (c) { return [c[1], c[0]]; }), {
          color: '#0b1c2c', weight: 2.5, opacity: 0.85, dashArray: '4 3', interactive: false
        }).addTo(VTS.trail);
      }
    }).catch(function (err) {
      if (VTS.selected !== mmsi) return;
      // only the server saying so means the vessel is gone; an unreachable server leaves the last
      // details on screen (the page is marked offline meanwhile)
      if (err && err.status === 404) renderDetailsGone(mmsi, err);
    });
  };

  function cellText(value) {
    return value === null || value === undefined || value === '' ? '—' : String(value);
  }

  function detailRows(v) {
    return [
      ['MMSI', v.mmsi],
      ['Call sign', v.callsign],
      ['IMO', v.imo],
      ['Flag', v.flag],
      ['Type', v.ship_type_text ? v.ship_type_text + ' · ' + v.category.replace('_', ' ') : v.category.replace('_', ' ')],
      ['Class', v.ais_class],
      ['Dimensions', v.length_m ? v.length_m + ' × ' + (v.beam_m || '?') + ' m' : null],
      ['Draught', v.draught_m ? fmtNum(v.draught_m, 1, ' m') : null],
      ['Destination', v.destination],
      ['ETA', v.eta],
      ['Nav status', v.nav_status_text],
      ['Speed', fmtNum(v.sog, 1, ' kn')],
      ['Course', fmtNum(v.cog, 1, '°')],
      ['Heading', v.heading === null ? null : v.heading + '°'],
      ['Position', v.lat === null ? null : dm(v.lat, 'N', 'S') + ' ' + dm(v.lon, 'E', 'W')],
      ['Last seen', fmtDateTime(v.last_seen) + (v.age_s !== null ? ' (' + fmtAge(v.age_s) + ')' : '') + (v.stale ? ' · STALE' : '')],
      ['Zones', (v.zones || []).map(function (z) { return z.name; }).join(', ') || 'none'],
      ['Messages', v.messages]
    ];
  }

  // Built once per selected vessel, then updated in place every refresh (2 s): only the cells whose
  // text changed are touched, so a call sign or IMO number being selected to copy, the scroll
  // position and the focus are not lost; the vessel's alerts are rebuilt only when they change.
  function renderDetails(v) {
    var box = document.getElementById('vts-details');
    box.classList.remove('hidden');
    var rows = detailRows(v);
    if (box.dataset.mmsi !== String(v.mmsi) || !box.querySelector('table')) {
      clear(box);
      var close = el('button', { text: '✕', title: 'close', 'aria-label': 'close details' });
      close.addEventListener('click', VTS.deselect);
      box.appendChild(el('h2', null, el('span', { text: 'Vessel' }), close));
      box.appendChild(el('div', { cls: 'vts-title', id: 'vts-details-name' }));
      var t = el('table');
      rows.forEach(function (r) {
        t.appendChild(el('tr', null, el('th', { text: r[0] }), el('td', { 'data-field': r[0] })));
      });
      box.appendChild(t);
      box.appendChild(el('h2', null, el('span', { text: 'Active alerts of this vessel' })));
      box.appendChild(el('div', { id: 'vts-details-alerts' }));
      box.dataset.mmsi = String(v.mmsi);
    }
    var title = document.getElementById('vts-details-name');
    var name = v.name || ('MMSI ' + v.mmsi);
    if (title.textContent !== name) title.textContent = name;
    var cells = box.querySelectorAll('td[data-field]');
    rows.forEach(function (r, i) {
      var text = cellText(r[1]);
      if (cells[i] && cells[i].textContent !== text) cells[i].textContent = text;
    });
    var list = document.getElementById('vts-details-alerts');
    var alerts = v.alerts || [];
    var signature = JSON.stringify(alerts.map(function (a) { return [a.id, a.state, a.severity, a.time, a.message, a.ack]; }));
    if (list.dataset.signature !== signature) {
      clear(list);
      if (alerts.length === 0) list.appendChild(el('div', { cls: 'vts-empty', text: 'none' }));
      alerts.forEach(function (a) { list.appendChild(alertNode(a, false)); });
      list.dataset.signature = signature;
    }
  }

  function renderDetailsGone(mmsi, err) {
    var box = document.getElementById('vts-details');
    box.classList.remove('hidden');
    clear(box);
    delete box.dataset.mmsi;  // built afresh if the vessel is heard again
    box.appendChild(el('div', { cls: 'vts-empty', text: 'MMSI ' + mmsi + ': no longer tracked (' + err.message + ')' }));
  }

  // -- alerts --------------------------------------------------------------------------------------
  function alertVessel(a) {
    return (a.name ? a.name + ' · ' : '') + 'MMSI ' + a.mmsi + (a.other_mmsi ? ' / ' + a.other_mmsi : '');
  }

  function zoneName(id) {
    if (!id || !VTS.opts) return id;
    for (var i = 0; i < VTS.opts.zones.length; i++) if (VTS.opts.zones[i].id === id) return VTS.opts.zones[i].name;
    return id;
  }

  // The evidence of an alert (its `details`: distances, durations, speeds ...), shown under the
  // alert the operator selected, as the offline report's popup shows it. Text only.
  function evidenceValue(v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'object') { var j = JSON.stringify(v); return j.length > 200 ? j.slice(0, 199) + '…' : j; }
    return String(v);
  }

  function evidenceNode(a) {
    var table = el('table', { cls: 'vts-evidence' });
    function row(k, v) { table.appendChild(el('tr', null, el('th', { text: k }), el('td', { text: evidenceValue(v) }))); }
    if (a.started !== a.time) row('started', fmtDateTime(a.started));
    if (a.lat !== null && a.lat !== undefined) row('position', dm(a.lat, 'N', 'S') + ' ' + dm(a.lon, 'E', 'W'));
    Object.keys(a.details || {}).forEach(function (k) { row(k.replace(/_/g, ' '), a.details[k]); });
    return table;
  }

  function alertNode(a, withForm) {
    var node = el('div', { cls: 'vts-alert sev-' + a.severity + (a.ack ? ' acked' : ''), 'data-alert-id': a.id });
    node.appendChild(el('div', { cls: 'top' },
      el('span', { cls: 'sev', text: a.severity + ' · ' + a.type.replace(/_/g, ' ') }),
      el('span', { cls: 'tm', text: fmtTime(a.started) + (a.time !== a.started ? ' → ' + fmtTime(a.time) : '') })));
    node.appendChild(el('div', { cls: 'vs', text: alertVessel(a) }));
    if (a.zone) node.appendChild(el('div', { cls: 'msg', text: 'zone: ' + zoneName(a.zone) }));
    node.appendChild(el('div', { cls: 'msg', text: a.message }));
    if (VTS.openAlert === a.id) node.appendChild(evidenceNode(a));
    if (a.ack) {
      node.appendChild(el('div', { cls: 'ackd', text: 'ACK ' + a.ack.who + ' ' + fmtTime(a.ack.time) + (a.ack.note ? ': ' + a.ack.note : '') }));
    } else if (withForm) {
      var note = el('input', { type: 'text', placeholder: 'note', maxlength: '500', 'aria-label': 'acknowledgement note' });
      note.value = VTS.drafts.get(a.id) || '';
      note.addEventListener('input', function () {
        if (note.value) VTS.drafts.set(a.id, note.value); else VTS.drafts.delete(a.id);
      });
      var btn = el('button', { type: 'submit', text: 'Ack', cls: 'vts-ack-btn' });
      btn.disabled = VTS.acking.has(a.id);
      var form = el('form', null, note, btn);
      form.addEventListener('click', function (e) { e.stopPropagation(); });
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        e.stopPropagation();
        if (!operatorName()) {
          // an acknowledgement says who took it: asked once, kept in this browser
          VTS.ackErrors.set(a.id, 'Enter your name in the operator field (top right) to acknowledge.');
          renderAlertsNow();
          var field = document.getElementById('vts-operator');
          if (field) field.focus();
          return;
        }
        VTS.acking.add(a.id);
        VTS.ackErrors.delete(a.id);
        btn.disabled = true;
        VTS.acknowledge(a.id, note.value).then(function () {
          VTS.acking.delete(a.id);
        }, function (err) {
          VTS.acking.delete(a.id);
          // on the card, not in a blocking dialog: the map and the other alerts go on updating
          VTS.ackErrors.set(a.id, 'Acknowledge failed: ' + err.message);
          renderAlertsNow();
        });
      });
      node.appendChild(form);
      var problem = VTS.ackErrors.get(a.id);
      if (problem) node.appendChild(el('div', { cls: 'ack-error', role: 'alert', text: problem }));
    }
    node.addEventListener('click', function () { VTS.flyToAlert(a); });
    onActivate(node, function () { VTS.flyToAlert(a); });
    return node;
  }

  VTS.flyToAlert = function (a) {
    if (VTS.openAlert !== a.id) {  // the selected alert shows its evidence
      VTS.openAlert = a.id;
      renderAlertsNow();
    }
    var layer = layerOf(a.mmsi);
    var target = layer ? layer.getLatLng() : (a.lat !== null ? L.latLng(a.lat, a.lon) : null);
    var other = a.other_mmsi ? layerOf(a.other_mmsi) : null;
    if (target && other) {
      // a pair alert (alongside, rendezvous, cpa): both vessels in view
      VTS.map.flyToBounds(L.latLngBounds([target, other.getLatLng()]).pad(0.5), { maxZoom: 16, duration: 0.6 });
    } else if (target) {
      VTS.map.flyTo(target, Math.max(VTS.map.getZoom(), 14), { duration: 0.6 });
    }
    VTS.select(a.mmsi, false);
  };

  function operatorName() {
    return (localStorage.getItem('vts-operator') || '').trim();
  }

  VTS.acknowledge = function (id, note) {
    var headers = { 'Content-Type': 'application/json' };
    var token = sessionStorage.getItem('vts-token');
    if (token) headers['X-VTS-Token'] = token;
    var who = operatorName() || 'operator';
    return fetch('/api/alerts/' + encodeURIComponent(id) + '/ack', {
      method: 'POST', headers: headers, credentials: 'same-origin', body: JSON.stringify({ note: note, who: who })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
        VTS.alerts.set(id, body.alert);
        renderAlerts();
        return body;
      });
    });
  };

  function sortedAlerts() {
    // the most severe first (an emergency is never below a page of zone entries), then the newest
    return Array.from(VTS.alerts.values()).sort(function (x, y) {
      var r = rank(x.severity) - rank(y.severity);
      if (r) return r;
      if (x.started !== y.started) return x.started < y.started ? 1 : -1;
      return 0;
    });
  }

  var MAX_ALERT_ROWS = 250;

  // Coalesced: a burst of SSE events re-renders the panel (and the title) once per 100 ms.
  function renderAlerts() {
    if (VTS._renderPending) return;
    VTS._renderPending = true;
    setTimeout(function render() {
      // a click is a press and a release on the same element: a panel rebuilt between the two
      // (an alert step arriving meanwhile) swallowed the operator's click, so it waits for the release
      if (VTS._pressed) { setTimeout(render, 50); return; }
      VTS._renderPending = false;
      renderAlertsNow();
    }, 100);
  }

  function renderAlertsNow() {
    var box = document.getElementById('vts-alerts');
    var list = sortedAlerts();
    var fresh = VTS._freshIds || new Set();
    var focus = focusWithin(box, 'data-alert-id');
    clear(box);
    // the operator's severity filter (the badges, the title and the count still cover every alert)
    var least = rank(VTS.minSeverity || 'info');
    var shown = list.filter(function (a) { return rank(a.severity) <= least; });
    if (list.length === 0) box.appendChild(el('div', { cls: 'vts-empty', text: 'No active alerts.' }));
    else if (shown.length === 0) box.appendChild(el('div', { cls: 'vts-empty', text: 'No active alerts at this severity (' + list.length + ' less severe hidden).' }));
    shown.slice(0, MAX_ALERT_ROWS).forEach(function (a) {
      var node = alertNode(a, true);
      if (fresh.has(a.id)) node.classList.add('new');
      box.appendChild(node);
    });
    if (shown.length > MAX_ALERT_ROWS) {
      box.appendChild(el('div', { cls: 'vts-empty', text: (shown.length - MAX_ALERT_ROWS) + ' more alerts not listed, the least severe and oldest (see /api/alerts)' }));
    }
    restoreFocus(box, 'data-alert-id', focus);
    [VTS.drafts, VTS.ackErrors].forEach(function (byId) {  // of alerts gone or acknowledged
      byId.forEach(function (_value, id) {
        var still = VTS.alerts.get(id);
        if (!still || still.ack) byId.delete(id);
      });
    });
    VTS._freshIds = new Set();
    var counts = { emergency: 0, alarm: 0, warning: 0, caution: 0, info: 0 };
    list.forEach(function (a) { counts[a.severity] = (counts[a.severity] || 0) + 1; });
    var parts = [];
    Object.keys(counts).forEach(function (s) {
      var badge = document.getElementById('vts-badge-' + s);
      if (badge) { badge.textContent = counts[s]; badge.classList.toggle('zero', counts[s] === 0); }
      if (counts[s]) parts.push(counts[s] + ' ' + SEVERITY_ABBR[s]);
    });
    document.title = (parts.length ? '(' + parts.join(' ') + ') ' : '') + 'VTS Callao';
    document.getElementById('vts-alert-count').textContent = list.length + ' active' + (shown.length < list.length ? ' (' + shown.length + ' shown)' : '');
  }
  VTS.renderAlerts = renderAlerts;

  function onAlertStep(a) {
    var known = VTS.alerts.has(a.id);
    if (a.state === 'cleared') {
      VTS.alerts.delete(a.id);
    } else {
      VTS.alerts.set(a.id, a);
      if (!known) {
        (VTS._freshIds = VTS._freshIds || new Set()).add(a.id);
        if (a.severity === 'emergency' || a.severity === 'alarm') VTS.beep(a.severity);
      }
    }
    renderAlerts();
    if (VTS.selected === a.mmsi || VTS.selected === a.other_mmsi) VTS.refreshDetails();
  }

  VTS.loadAlerts = function () {
    return getJSON('/api/alerts?state=active').then(function (body) {
      VTS.alerts = new Map(body.alerts.map(function (a) { return [a.id, a]; }));
      renderAlerts();
    });
  };

  function connectEvents() {
    var source = new EventSource('/api/events');
    VTS.events = source;
    source.addEventListener('alert', function (e) { onAlertStep(JSON.parse(e.data)); });
    source.addEventListener('ack', function (e) {
      var d = JSON.parse(e.data), a = VTS.alerts.get(d.id);
      if (a) { a.ack = d.ack; renderAlerts(); }
    });
    source.addEventListener('open', function () { VTS.loadAlerts().catch(function () {}); setConn(true); });
    source.addEventListener('error', function () {
      setConn(false);
      // a dropped stream is retried by the browser itself (`retry:`), but a refusal (503: the server's
      // web.max_event_streams are open) closes it for good: try again in 30-60 s, spread over the tabs
      if (source.readyState === EventSource.CLOSED) setTimeout(connectEvents, 30000 + Math.random() * 30000);
    });
  }

  // -- audible cue (generated, no audio file) -----------------------------------------------------
  VTS.beep = function (severity) {
    VTS.beeps = (VTS.beeps || 0) + 1;
    var now = Date.now();
    if (VTS.muted || now - (VTS._lastBeep || 0) < 2000) return;  // one cue per burst of alerts
    VTS._lastBeep = now;
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      VTS.audio = VTS.audio || new Ctx();
      var ctx = VTS.audio;
      if (ctx.state === 'suspended') ctx.resume();
      var n = severity === 'emergency' ? 3 : 2, freq = severity === 'emergency' ? 1046 : 784;
      for (var i = 0; i < n; i++) {
        var osc = ctx.createOscillator(), gain = ctx.createGain(), t0 = ctx.currentTime + i * 0.28;
        osc.type = 'square';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t0);
        gain.gain.exponentialRampToValueAtTime(0.18, t0 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.2);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t0);
        osc.stop(t0 + 0.22);
      }
    } catch (err) { /* no audio device: the panel still flashes */ }
  };

  function setMuted(m) {
    VTS.muted = m;
    localStorage.setItem('vts-muted', m ? '1' : '0');
    var b = document.getElementById('vts-mute');
    b.textContent = m ? 'sound off' : 'sound on';
    b.setAttribute('aria-pressed', m ? 'true' : 'false');
  }

  // -- vessel list ---------------------------------------------------------------------------------
  VTS.refreshList = function () {
    var q = document.getElementById('vts-q').value;
    var params = new URLSearchParams({
      q: q, category: document.getElementById('vts-cat').value, zone: document.getElementById('vts-zone').value,
      limit: '300'
    });
    // the vessels outlined in red: an alert above information level (not a zone entry alone)
    if (document.getElementById('vts-alerting').checked) { params.set('alerting', '1'); params.set('min_severity', 'caution'); }
    var seq = (VTS._listSeq = (VTS._listSeq || 0) + 1);
    return getJSON('/api/vessels?' + params.toString()).then(function (fc) {
      if (seq !== VTS._listSeq) return;
      var list = document.getElementById('vts-list');
      var focus = focusWithin(list, 'data-mmsi');
      clear(list);
      fc.features.sort(function (x, y) {
        var ax = marks(x.properties.a) ? rank(x.properties.a) : 9, ay = marks(y.properties.a) ? rank(y.properties.a) : 9;
        if (ax !== ay) return ax - ay;
        return vesselLabel(x.properties).localeCompare(vesselLabel(y.properties));
      });
      fc.features.forEach(function (f) {
        var p = f.properties;
        var r = el('div', { cls: 'vts-row' + (marks(p.a) ? ' alerting' : '') + (p.x ? ' stale' : '') + (VTS.selected === p.m ? ' selected' : ''), 'data-mmsi': String(p.m) },
          el('span', { cls: 'sw', style: 'background:' + (p.x ? STALE_FILL : (CATEGORY_COLOURS[p.c] || CATEGORY_COLOURS.unknown)) }),
          el('span', { cls: 'nm', text: vesselLabel(p) }),
          el('span', { cls: 'mm', text: p.m + (p.s !== undefined ? ' · ' + p.s.toFixed(1) + 'kn' : '') }));
        if (p.x) r.title = 'stale: no recent report';
        r.addEventListener('click', function () { VTS.select(p.m, true); });
        onActivate(r, function () { VTS.select(p.m, true); });
        list.appendChild(r);
      });
      restoreFocus(list, 'data-mmsi', focus);
      document.getElementById('vts-list-count').textContent = fc.features.length + (fc.features.length >= 300 ? '+' : '') + ' shown';
    }).catch(function () {});
  };

  // -- feed health ---------------------------------------------------------------------------------
  function setConn(ok) {
    var c = document.getElementById('vts-conn');
    c.textContent = ok ? 'connected' : 'NO CONNECTION';
    c.className = ok ? '' : 'vts-conn-bad';
    // the whole picture says so, not just the header: ships and alerts on screen are no longer updated
    document.body.classList.toggle('vts-offline', !ok);
  }

  // `feed` is the daemon's / replay's clock_info (vts.sources.runner.FeedHealth): mode, speed,
  // event_time_iso (the replay clock), progress, and per source: state, msgs_per_s, last message,
  // stamps_arrival (vts.feed_clock), duplicates_per_s (copies of what another feed delivered first).
  var BAD_STATES = { retrying: 1, failed: 1, stopped: 1, connecting: 1, waiting: 1, disconnected: 1, damaged: 1 };
  // a live feed that has ended (standard input closed) sends nothing more: as bad as a dead one; a
  // recorded file that has been read through is just done
  function badState(x) {
    return !!x.state && (!!BAD_STATES[x.state] || (!!x.live && x.state === 'finished'));
  }
  // A live feed (a receiver, a network feed) that has sent nothing for this long is shown as silent:
  // its ships stop moving on the map without going stale at once (their age runs on event time,
  // which a dead feed no longer advances). `silent_s` is the server's own count, not this browser's clock.
  var SILENT_AFTER_S = 60;
  var ENDED_STATES = { finished: 1, stopped: 1 };
  function silentFor(x) {
    if (!x.live || ENDED_STATES[x.state] || typeof x.silent_s !== 'number') return null;
    return x.silent_s >= SILENT_AFTER_S ? x.silent_s : null;
  }

  // every source a recorded file (not live) that has been read to its end
  function recordingsRead(feed) {
    var sources = Array.isArray(feed.sources) ? feed.sources : [];
    return sources.length > 0 && sources.every(function (x) { return !x.live && x.state === 'finished'; });
  }

  function feedClock(feed) {
    var parts = [];
    if (!feed || !feed.mode) return 'live';
    parts.push(String(feed.mode));
    if (feed.mode !== 'live' && feed.event_time_iso) parts.push(fmtDateTime(feed.event_time_iso));
    if (feed.speed !== undefined && feed.speed !== null) parts.push('×' + feed.speed);
    if (feed.progress !== undefined && feed.progress !== null) parts.push(Math.round(feed.progress * 100) + '%');
    // a replay read to its end: said, not left to a 100% and a rate of 0.0/s (the map keeps serving)
    if (feed.mode !== 'live' && recordingsRead(feed)) parts.push('· finished');
    return parts.join(' ');
  }

  function renderSources(s) {
    var box = document.getElementById('vts-sources');
    clear(box);
    var feedSources = s.feed && Array.isArray(s.feed.sources) && s.feed.sources.length ? s.feed.sources : null;
    var items = feedSources
      ? feedSources.map(function (x) { return { name: x.name, rate: x.msgs_per_s || 0, copies: x.duplicates_per_s || 0, state: x.state, bad: badState(x), late: !!x.stamps_arrival, silent: silentFor(x), read: !x.live && x.state === 'finished' }; })
      : Object.keys(s.sources).map(function (k) { return { name: k, rate: s.sources[k].msgs_per_s, copies: 0, state: null, bad: false, late: false, silent: null }; });
    if (items.length === 0) { box.textContent = 'no feed yet'; return; }
    items.forEach(function (x, i) {
      if (i) box.appendChild(document.createTextNode(' · '));
      var bad = x.bad;
      // a feed whose fixes arrive late by a scattered lag (satellite, store-and-forward): its times are arrival times
      var late = x.late ? ' (arrival times)' : '';
      var silent = !bad && x.silent !== null ? ' (SILENT: last line ' + fmtAge(x.silent) + ')' : '';
      // a second receiver of the same waters: what it hears, another feed mostly delivered first
      // (counted once, see vts.ingest): it is working, not dead at 0.0/s
      var copies = x.copies > 0 ? ' (+' + Number(x.copies).toFixed(1) + '/s copies)' : '';
      var read = !bad && x.read ? ' (finished)' : '';  // a recording read to its end
      var text = x.name + ' ' + Number(x.rate).toFixed(1) + '/s' + copies + (bad ? ' (' + x.state + ')' : '') + read + silent + late;
      // the whole text in the title too: the cell may be cut short on a narrow screen
      var title = text + (x.state ? ' · ' + x.state : '') + (x.late ? ' · fixes arrive late: times are arrival times (satellite-like feed)' : '')
        + (x.copies > 0 ? ' · copies: messages another feed delivered first, counted once' : '');
      var span = el('span', { text: text, title: title });
      if (bad || silent) span.className = 'vts-conn-bad';
      box.appendChild(span);
    });
  }

  function lastMessage(s) {
    var last = s.last_message_time;
    if (s.feed && Array.isArray(s.feed.sources)) {
      s.feed.sources.forEach(function (x) { if (x.last_message_iso && (!last || x.last_message_iso > last)) last = x.last_message_iso; });
    }
    return last || s.event_time;
  }

  // header cells shrink (ellipsis) on a narrow screen so the alert badges and inputs stay in view
  function setCell(id, text) {
    var node = document.getElementById(id);
    node.textContent = text;
    node.title = text;
  }

  VTS.refreshStats = function () {
    return getJSON('/api/stats').then(function (s) {
      VTS.stats = s;
      setConn(true);
      document.getElementById('vts-vessels').textContent = s.vessels_positioned + ' / ' + s.vessels;
      setCell('vts-last', fmtDateTime(lastMessage(s)));
      renderSources(s);
      setCell('vts-feed', feedClock(s.feed));
    }).catch(function () { setConn(false); });
  };

  // -- measure tool --------------------------------------------------------------------------------
  function formatDistance(m) {
    var nm = m / 1852;
    return nm >= 0.5 ? nm.toFixed(2) + ' NM (' + (m / 1000).toFixed(2) + ' km)' : Math.round(m) + ' m (' + nm.toFixed(3) + ' NM)';
  }
  function bearing(a, b) {
    var f1 = a.lat * Math.PI / 180, f2 = b.lat * Math.PI / 180, dl = (b.lng - a.lng) * Math.PI / 180;
    var y = Math.sin(dl) * Math.cos(f2), x = Math.cos(f1) * Math.sin(f2) - Math.sin(f1) * Math.cos(f2) * Math.cos(dl);
    return (Math.atan2(y, x) * 180 / Math.PI + 360) % 360;
  }

  var Measure = L.Control.extend({
    options: { position: 'topleft' },
    onAdd: function (map) {
      var btn = L.DomUtil.create('div', 'leaflet-bar vts-measure-btn');
      btn.textContent = '↔';
      btn.title = 'Measure distance and bearing (click points, click the button again to stop)';
      btn.setAttribute('role', 'button');
      btn.id = 'vts-measure';
      onActivate(btn, this.toggle.bind(this));
      this._btn = btn;
      this._layer = L.layerGroup().addTo(map);
      this._points = [];
      this._result = el('span', { id: 'vts-measure-result', text: '' });
      this._label = L.tooltip({ permanent: true, direction: 'right', className: 'vts-measure-label', offset: [6, 0] })
        .setContent(this._result);
      L.DomEvent.disableClickPropagation(btn);
      L.DomEvent.on(btn, 'click', this.toggle, this);
      this._map = map;
      return btn;
    },
    toggle: function () {
      this._on = !this._on;
      this._btn.classList.toggle('on', this._on);
      L.DomUtil[this._on ? 'addClass' : 'removeClass'](this._map.getContainer(), 'vts-measuring');
      if (this._on) {
        this._points = [];
        this._layer.clearLayers();
        this._map.on('click', this._click, this);
        this._map.doubleClickZoom.disable();
      } else {
        this._map.off('click', this._click, this);
        this._map.doubleClickZoom.enable();
        this._layer.clearLayers();
        this._label.remove();
      }
    },
    _click: function (e) {
      this._points.push(e.latlng);
      var pts = this._points, total = 0;
      for (var i = 1; i < pts.length; i++) total += this._map.distance(pts[i - 1], pts[i]);
      this._layer.clearLayers();
      L.polyline(pts, { color: '#111', weight: 2, dashArray: '6 4', interactive: false }).addTo(this._layer);
      pts.forEach(function (p) { L.circleMarker(p, { radius: 3, color: '#111', fillColor: '#fff', fillOpacity: 1, interactive: false }).addTo(this._layer); }, this);
      var text = pts.length < 2 ? 'start' : formatDistance(total) + ' · ' + bearing(pts[pts.length - 2], pts[pts.length - 1]).toFixed(0) + '°T';
      this._result.textContent = text;
      this._label.setLatLng(e.latlng).addTo(this._map);
      VTS.measured = total;
    }
  });

  var Coords = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd: function (map) {
      var box = L.DomUtil.create('div', 'vts-coords');
      box.textContent = '—';
      map.on('mousemove', function (e) { box.textContent = dm(e.latlng.lat, 'N', 'S') + '  ' + dm(e.latlng.lng, 'E', 'W'); });
      return box;
    }
  });

  // -- page layout ---------------------------------------------------------------------------------
  function headerCell(label, id, text, fit) {
    return el('div', { cls: fit ? 'vts-cell vts-fit' : 'vts-cell' }, el('small', { text: label }), el('span', { id: id, text: text || '—' }));
  }

  function buildLayout(opts) {
    var badges = el('div', { cls: 'vts-badges', title: 'active alerts by severity' });
    opts.severities.forEach(function (s) {
      badges.appendChild(el('span', { cls: 'vts-badge zero bg-' + s, id: 'vts-badge-' + s, title: s, text: '0' }));
    });
    var mute = el('button', { id: 'vts-mute', type: 'button', title: 'audible cue for alarm and emergency alerts' });
    mute.addEventListener('click', function () { setMuted(!VTS.muted); if (!VTS.muted) VTS.beep('alarm'); });
    var operator = el('input', { id: 'vts-operator', type: 'text', placeholder: 'operator', title: 'your name, stored with acknowledgements' });
    operator.value = localStorage.getItem('vts-operator') || '';
    operator.addEventListener('change', function () {
      localStorage.setItem('vts-operator', operator.value.trim());
      if (!operator.value.trim()) return;
      var answered = 0;  // the "enter your name" notes on the cards are answered
      VTS.ackErrors.forEach(function (msg, id) {
        if (msg.indexOf('Enter your name') === 0) { VTS.ackErrors.delete(id); answered++; }
      });
      // re-rendered only then: a panel rebuilt under the pointer swallows the click that follows
      if (answered) renderAlerts();
    });
    var header = el('div', { id: 'vts-header' },
      el('span', { cls: 'vts-brand', text: 'VTS CALLAO' }),
      headerCell('server', 'vts-conn', 'connecting'),
      headerCell('messages / s', 'vts-sources', null, true),
      headerCell('vessels (pos / all)', 'vts-vessels'),
      headerCell('last message', 'vts-last'),
      headerCell('clock', 'vts-feed', null, true),
      el('div', { cls: 'vts-spacer' }),
      badges, mute, operator);
    if (opts.tokenRequired) {
      var token = el('input', { id: 'vts-token', type: 'password', placeholder: 'operator token', title: 'needed to acknowledge alerts' });
      token.value = sessionStorage.getItem('vts-token') || '';
      token.addEventListener('change', function () { sessionStorage.setItem('vts-token', token.value); });
      header.appendChild(token);
    }
    document.body.appendChild(header);

    var cat = el('select', { id: 'vts-cat', 'aria-label': 'category' }, el('option', { value: '', text: 'all categories' }));
    opts.categories.forEach(function (c) { cat.appendChild(el('option', { value: c, text: c.replace('_', ' ') })); });
    var zone = el('select', { id: 'vts-zone', 'aria-label': 'zone' }, el('option', { value: '', text: 'any zone' }));
    opts.zones.forEach(function (z) { zone.appendChild(el('option', { value: z.id, text: z.name })); });
    var q = el('input', { id: 'vts-q', type: 'search', placeholder: 'name, MMSI, call sign, IMO', 'aria-label': 'search vessels' });
    var alerting = el('input', { id: 'vts-alerting', type: 'checkbox' });
    var left = el('div', { id: 'vts-left', cls: 'vts-panel' },
      el('h2', null, el('span', { text: 'Vessels' }), el('span', { id: 'vts-list-count', cls: 'vts-count' })),
      el('div', { cls: 'vts-filters' }, q, cat, zone, el('label', null, alerting, ' with active alerts only')),
      el('div', { id: 'vts-list', cls: 'vts-list' }));
    document.body.appendChild(left);
    var timer = null;
    var later = function () { clearTimeout(timer); timer = setTimeout(VTS.refreshList, 200); };
    [q, cat, zone, alerting].forEach(function (n) { n.addEventListener('input', later); n.addEventListener('change', later); });

    // which alerts the panel lists: every severity, or only the more severe (zone entries and exits
    // are information, and on a busy day most of the panel); kept in this browser
    var minSev = el('select', { id: 'vts-alert-min', 'aria-label': 'alerts shown' });
    opts.severities.forEach(function (sv, i) {
      var label = i === 0 ? sv + ' only' : (i === opts.severities.length - 1 ? 'all severities' : sv + ' and above');
      minSev.appendChild(el('option', { value: sv, text: label }));
    });
    VTS.minSeverity = opts.severities.indexOf(localStorage.getItem('vts-alert-min')) >= 0 ? localStorage.getItem('vts-alert-min') : 'info';
    minSev.value = VTS.minSeverity;
    minSev.addEventListener('change', function () {
      VTS.minSeverity = minSev.value;
      localStorage.setItem('vts-alert-min', minSev.value);
      renderAlertsNow();
    });
    var right = el('div', { id: 'vts-right', cls: 'vts-panel' },
      el('h2', null, el('span', { text: 'Alerts' }), el('span', { id: 'vts-alert-count', cls: 'vts-count' })),
      el('div', { cls: 'vts-filters' }, minSev),
      el('div', { id: 'vts-alerts' }),
      el('div', { id: 'vts-details', cls: 'hidden' }));
    document.body.appendChild(right);
    right.addEventListener('pointerdown', function () { VTS._pressed = true; });
    ['pointerup', 'pointercancel', 'blur'].forEach(function (type) {
      window.addEventListener(type, function () { VTS._pressed = false; });
    });
    setMuted(localStorage.getItem('vts-muted') === '1');
  }

  // -- start ---------------------------------------------------------------------------------------
  VTS.init = function (map, realtime, opts, land) {
    VTS.map = map;
    VTS.opts = opts;
    VTS.layer = realtime;
    VTS.land = land;
    VTS.trail = L.layerGroup().addTo(map);
    // an empty icon: without one the browser asks for /favicon.ico (a 404 error in the console)
    if (!document.querySelector('link[rel~="icon"]')) document.head.appendChild(el('link', { rel: 'icon', href: 'data:,' }));
    buildLayout(opts);
    map.attributionControl.setPrefix('Leaflet');
    if (land && opts.landAttribution) map.attributionControl.addAttribution(escapeAttribution(opts.landAttribution));
    map.addControl(new Measure());
    map.addControl(new Coords());
    map.invalidateSize();
    realtime.on('update', function () {
      VTS.updates = (VTS.updates || 0) + 1;
      document.body.setAttribute('data-vessels', String(Object.keys(VTS.layer._features || {}).length));
      document.body.setAttribute('data-updates', String(VTS.updates));
    });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') VTS.deselect(); });
    VTS.loadAlerts().catch(function () {});
    connectEvents();
    VTS.refreshStats();
    VTS.refreshList();
    setInterval(VTS.refreshStats, 2000);
    setInterval(VTS.refreshList, 3000);
    setInterval(function () { if (VTS.selected !== null) VTS.refreshDetails(); }, 2000);
    setInterval(function () { VTS.loadAlerts().catch(function () {}); }, 15000);
  };

  function escapeAttribution(text) {
    // Leaflet renders attributions as HTML: pass the configured text through a text node first.
    var d = document.createElement('div');
    d.textContent = text;
    return d.innerHTML;
  }
})();
