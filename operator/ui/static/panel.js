// The side panel: figures of the selected node or edge over the chosen window (small
// charts from the graph's series), response codes and flags, observed vs configured split,
// the config that applies (links to its YAML), analyze findings and NACKs, and for an edge
// the explain of a sample request (from /ui/details.json: the proxy's own route matcher).
/* global document, window */
'use strict';
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const panel = document.getElementById('panel');
  const body = document.getElementById('panel-body');
  const titleEl = document.getElementById('panel-title');
  let current = null;
  let details = null;
  let detailsKey = '';
  let detailsAt = 0;

  function h(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function chart(title, points, series, fmt) {
    const wrap = h('div', { class: 'chart', 'data-chart': title });
    wrap.appendChild(h('div', { class: 'chart-title' }, title));
    const W = 260, H = 54;
    const s = document.createElementNS(NS, 'svg');
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    s.setAttribute('class', 'spark');
    s.setAttribute('preserveAspectRatio', 'none');
    s.setAttribute('data-points', String(points.length));
    const vals = [];
    for (const p of points) for (const k of series) if (p[k.key] !== null && p[k.key] !== undefined) vals.push(p[k.key]);
    const max = Math.max(1e-9, ...vals), min = series[0].key === 'successRate' ? Math.min(0.9, ...vals) : 0;
    const t0 = points.length ? points[0].t : 0, t1 = points.length ? points[points.length - 1].t : 1;
    for (const k of series) {
      const pts = points.filter(function (p) { return p[k.key] !== null && p[k.key] !== undefined; }).map(function (p) {
        const x = t1 > t0 ? ((p.t - t0) / (t1 - t0)) * (W - 4) + 2 : W / 2;
        const y = H - 3 - ((p[k.key] - min) / Math.max(1e-9, max - min)) * (H - 8);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      const pl = document.createElementNS(NS, 'polyline');
      pl.setAttribute('points', pts.join(' '));
      pl.setAttribute('class', 'series ' + k.key);
      s.appendChild(pl);
      for (const xy of pts) {
        const c = document.createElementNS(NS, 'circle');
        c.setAttribute('cx', xy.split(',')[0]);
        c.setAttribute('cy', xy.split(',')[1]);
        c.setAttribute('r', '1.8');
        c.setAttribute('class', 'dot ' + k.key);
        s.appendChild(c);
      }
    }
    wrap.appendChild(s);
    const last = points[points.length - 1];
    wrap.appendChild(h('div', { class: 'chart-legend' }, series.map(function (k) { return k.label + ' ' + (last && last[k.key] !== null ? fmt(last[k.key]) : '–'); }).join(' · ') + (points.length === 0 ? ' (no points yet)' : '')));
    return wrap;
  }

  function kv(rows) {
    const t = h('table', { class: 'kv' });
    for (const [k, v] of rows) {
      const tr = h('tr');
      tr.appendChild(h('th', {}, k));
      tr.appendChild(h('td', {}, v));
      t.appendChild(tr);
    }
    return t;
  }

  function section(title, cls) {
    const s = h('section', { class: cls || '' });
    s.appendChild(h('h3', {}, title));
    body.appendChild(s);
    return s;
  }

  const ms = function (x) { return x === null || x === undefined ? '–' : x.toFixed(1) + ' ms'; };
  const pct = function (x) { return (x * 100).toFixed(1) + '%'; };

  function render(state) {
    const g = state.graph;
    if (!g || !current) return;
    while (body.firstChild) body.removeChild(body.firstChild);
    const byId = new Map(g.nodes.map(function (n) { return [n.id, n]; }));
    const name = function (id) { const n = byId.get(id); return n ? (n.kind === 'app' || n.kind === 'ingress' ? n.name + '.' + n.namespace : n.name) : id; };
    let points;
    panel.setAttribute('data-kind', current.kind);
    panel.setAttribute('data-id', current.id);
    if (current.kind === 'edge') {
      const e = g.edges.find(function (x) { return x.id === current.id; });
      if (!e) { body.appendChild(h('p', {}, 'no traffic on this call in the last ' + g.window)); return; }
      titleEl.textContent = name(e.source) + ' → ' + name(e.target);
      points = (g.series && g.series.edges[e.id]) || [];
      body.appendChild(kv([['requests', e.tcp ? e.rps.toFixed(2) + ' conn/s' : e.rps.toFixed(2) + ' req/s'], ['success', e.tcp ? 'n/a (TCP)' : pct(e.successRate)], ['p50 / p90 / p99', ms(e.p50) + ' / ' + ms(e.p90) + ' / ' + ms(e.p99)], ['mTLS', e.mtls], ['services', e.services.join(', ')], ['health', e.health]]));
      charts(points, g.window);
      codes(e);
      split(e.split, state);
    } else {
      const n = byId.get(current.id);
      if (!n) { body.appendChild(h('p', {}, 'this app is gone from the graph')); return; }
      titleEl.textContent = n.kind === 'unknown' ? 'unknown (outside the mesh)' : name(n.id);
      points = (g.series && g.series.nodes[n.id]) || [];
      body.appendChild(kv([['kind', n.kind], ['incoming', n.rpsIn.toFixed(2) + ' req/s'], ['success', pct(n.successRate)], ['versions', n.versions.map(function (v) { return v.version + (v.workload ? ' (' + v.workload + ')' : ''); }).join(', ') || '–'], ['health', n.health]]));
      charts(points, g.window);
      const inc = g.edges.filter(function (e) { return e.target === n.id; });
      const split0 = {};
      for (const v of n.versions) split0[v.version] = v.share;
      if (n.versions.length > 0) split(split0, state);
      const merged = { codes: {}, flags: {} };
      for (const e of inc) {
        for (const c in e.codes) merged.codes[c] = (merged.codes[c] || 0) + e.codes[c];
        for (const f in e.flags) merged.flags[f] = (merged.flags[f] || 0) + e.flags[f];
      }
      codes(merged);
    }
    renderDetails(g);
  }

  function charts(points, win) {
    const s = section('Last ' + win, 'charts');
    s.appendChild(chart('request rate', points, [{ key: 'rps', label: 'req/s' }], function (x) { return x.toFixed(2); }));
    s.appendChild(chart('success rate', points, [{ key: 'successRate', label: 'success' }], pct));
    s.appendChild(chart('latency', points, [{ key: 'p50', label: 'p50' }, { key: 'p90', label: 'p90' }, { key: 'p99', label: 'p99' }], ms));
  }

  function codes(e) {
    const s = section('Response codes and flags', 'codes');
    const t = h('table', { class: 'list' });
    // Series that saw no request in this window are left out (counters keep them at 0).
    const rows = Object.entries(e.codes).map(function (x) { return ['code', x[0], x[1]]; }).concat(Object.entries(e.flags).map(function (x) { return ['flag', x[0], x[1]]; })).filter(function (r) { return r[2] >= 0.005; });
    if (rows.length === 0) s.appendChild(h('p', { class: 'muted' }, 'none in this window'));
    for (const [kind, k, v] of rows) {
      const tr = h('tr', { class: kind, ['data-' + kind]: k });
      tr.appendChild(h('td', {}, kind));
      tr.appendChild(h('td', { class: kind === 'code' && (k.startsWith('5') || k === '0') ? 'bad' : '' }, k));
      tr.appendChild(h('td', {}, v.toFixed(2) + '/s'));
      t.appendChild(tr);
    }
    s.appendChild(t);
  }

  function split(observed, state) {
    const s = section('Traffic split per version', 'split');
    const t = h('table', { class: 'list split-table' });
    const head = h('tr');
    for (const c of ['version', 'observed', 'configured']) head.appendChild(h('th', {}, c));
    t.appendChild(head);
    const configured = {};
    for (const c of (details && details.configured) || []) {
      for (const d of c.destinations) {
        const k = d.version || d.subset;
        (configured[k] = configured[k] || []).push(d.weight + '% (' + c.route + ')');
      }
    }
    const keys = [...new Set(Object.keys(observed).concat(Object.keys(configured)))].sort();
    for (const k of keys) {
      const tr = h('tr', { 'data-version': k });
      tr.appendChild(h('td', {}, k));
      tr.appendChild(h('td', {}, observed[k] === undefined ? '–' : pct(observed[k])));
      tr.appendChild(h('td', {}, (configured[k] || ['–']).join(', ')));
      t.appendChild(tr);
    }
    s.appendChild(t);
    void state;
  }

  function renderDetails(g) {
    if (!details) return;
    const s = section('Config that applies', 'config');
    if (details.config.length === 0) s.appendChild(h('p', { class: 'muted' }, 'no VirtualService, DestinationRule or AuthorizationPolicy'));
    const ul = h('ul');
    for (const c of details.config) {
      const li = h('li');
      li.appendChild(h('span', { class: 'kind' }, c.kind + ' '));
      li.appendChild(h('a', { class: 'config-ref', 'data-kind': c.kind, 'data-name': c.name, href: c.yamlUrl, target: '_blank', rel: 'noopener' }, c.namespace + '/' + c.name));
      ul.appendChild(li);
    }
    s.appendChild(ul);
    if (details.explain) {
      const x = section('Explain: a sample request along this call', 'explain');
      if (details.explain.error) x.appendChild(h('p', { class: 'muted' }, details.explain.error));
      else {
        const r = details.explain.result;
        x.appendChild(kv([['from proxy', details.explain.proxy], ['request', 'GET ' + details.explain.url], ['outcome', r.outcome + (r.reply ? ': ' + r.reply : '')]]));
        if (r.route) x.appendChild(h('p', {}, 'route ')).appendChild(h('code', { class: 'explain-route' }, r.route.name));
        const ul2 = h('ul', { class: 'explain-destinations' });
        for (const d of r.destinations || []) ul2.appendChild(h('li', {}, d.percent + '% → ' + d.cluster));
        x.appendChild(ul2);
      }
    }
    if (details.findings.length > 0 || details.nacks.length > 0) {
      const f = section('Problems', 'findings');
      const ul3 = h('ul');
      for (const x of details.findings) ul3.appendChild(h('li', { class: 'finding ' + x.level, 'data-code': x.code }, x.code + ': ' + x.object.kind + ' ' + x.object.namespace + '/' + x.object.name + (x.path ? ' ' + x.path : '') + ' — ' + x.message));
      for (const x of details.nacks) ul3.appendChild(h('li', { class: 'nack' }, 'NACK from ' + x.proxy + ': ' + x.error));
      f.appendChild(ul3);
    }
    if (details.traces) {
      const t = section('Traces', 'traces');
      t.appendChild(h('a', { class: 'traces-link', href: details.traces, target: '_blank', rel: 'noopener' }, 'open traces of this call in Jaeger'));
    }
    void g;
  }

  async function loadDetails(state, force) {
    const g = state.graph;
    if (!g || !current) return;
    let url;
    if (current.kind === 'node') url = '/ui/details.json?node=' + encodeURIComponent(current.id);
    else {
      const e = g.edges.find(function (x) { return x.id === current.id; });
      if (!e) return;
      url = '/ui/details.json?source=' + encodeURIComponent(e.source) + '&target=' + encodeURIComponent(e.target) + '&hosts=' + encodeURIComponent(e.services.join(','));
    }
    if (!force && url === detailsKey && Date.now() - detailsAt < 5000) return;
    detailsKey = url;
    detailsAt = Date.now();
    try {
      const r = await fetch(url, { cache: 'no-store' });
      details = await r.json();
    } catch (err) {
      details = { config: [], configured: [], findings: [], nacks: [], explain: { error: String(err) } };
    }
    render(state);
    panel.setAttribute('data-loaded', 'true');
  }

  window.meshletPanel = {
    open: function (kind, id, state) {
      current = { kind: kind, id: id };
      details = null;
      detailsKey = '';
      panel.removeAttribute('data-loaded');
      panel.hidden = false;
      render(state);
      loadDetails(state, true);
    },
    close: function () {
      current = null;
      panel.hidden = true;
      for (const x of document.querySelectorAll('.selected')) x.classList.remove('selected');
    },
    refresh: function (state) {
      if (!current) return;
      render(state);
      loadDetails(state, false);
    },
  };
  document.getElementById('panel-close').addEventListener('click', function () { window.meshletPanel.close(); });
})();
