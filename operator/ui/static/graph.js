// Draws /ui/graph.json as SVG: app nodes (with their versions) in namespace boxes, laid out by
// meshletLayout (dagre); edges are as thick as their request rate, animated while traffic
// flows, coloured by health, with a lock when the servers saw mutual TLS. Polls for new
// figures and re-lays out only when the set of apps, versions or calls changes, so nothing
// jumps while values update. Clicking a node or an edge opens the side panel (panel.js).
/* global document, window, location, history, CSS, URLSearchParams */
'use strict';
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.getElementById('graph');
  const statusEl = document.getElementById('status');
  const errorsEl = document.getElementById('errors');
  const windowEl = document.getElementById('window');
  const state = { graph: null, shape: '', layout: null, selected: null, window: '1m' };

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function fmtRps(x) { return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2); }

  function edgeLabel(e) {
    if (e.tcp) return fmtRps(e.rps) + ' conn/s · TCP';
    return fmtRps(e.rps) + ' rps · ' + (e.successRate * 100).toFixed(1) + '%';
  }

  function shapeOf(g) {
    return JSON.stringify([g.nodes.map(function (n) { return n.id + '|' + n.versions.map(function (v) { return v.version; }).join(','); }), g.edges.map(function (e) { return e.id; })]);
  }

  function widthFor(rps, max) {
    if (!(rps > 0)) return 1.2;
    return 1.5 + 5.5 * Math.log(1 + rps) / Math.log(1 + Math.max(max, 1));
  }

  function pathOf(points) {
    let d = 'M' + points[0].x + ' ' + points[0].y;
    if (points.length === 2) return d + ' L' + points[1].x + ' ' + points[1].y;
    // A smooth curve through dagre's bend points (quadratic segments to their midpoints).
    for (let i = 1; i < points.length - 1; i++) {
      const p = points[i], q = points[i + 1];
      const mx = i === points.length - 2 ? q.x : (p.x + q.x) / 2, my = i === points.length - 2 ? q.y : (p.y + q.y) / 2;
      d += ' Q' + p.x + ' ' + p.y + ' ' + mx + ' ' + my;
    }
    return d;
  }

  function lock(parent, x, y) {
    const g = el('g', { class: 'lock', transform: 'translate(' + x + ',' + y + ')' }, parent);
    el('path', { d: 'M2 5 V3.2 a2.5 2.5 0 0 1 5 0 V5', fill: 'none', 'stroke-width': '1.3' }, g);
    el('rect', { x: 0.5, y: 5, width: 8, height: 6, rx: 1 }, g);
    el('title', {}, g).textContent = 'mutual TLS';
    return g;
  }

  function select(kind, id) {
    state.selected = { kind: kind, id: id };
    for (const x of svg.querySelectorAll('.selected')) x.classList.remove('selected');
    const sel = kind === 'node' ? svg.querySelector('.node[data-id="' + CSS.escape(id) + '"]') : svg.querySelector('.edge[data-id="' + CSS.escape(id) + '"]');
    if (sel) sel.classList.add('selected');
    window.meshletPanel.open(kind, id, state);
  }

  function draw(g) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const defs = el('defs', {}, svg);
    for (const h of ['healthy', 'degraded', 'failing', 'idle']) {
      const m = el('marker', { id: 'arrow-' + h, class: 'arrow-' + h, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '9', markerHeight: '9', orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' }, defs);
      el('path', { d: 'M 0 0 L 10 5 L 0 10 z' }, m);
    }
    const L = window.meshletLayout(g);
    state.layout = L;
    svg.setAttribute('viewBox', '0 0 ' + Math.max(L.width, 300) + ' ' + Math.max(L.height, 120));
    svg.style.height = Math.max(240, L.height) + 'px';
    svg.style.maxWidth = Math.max(L.width, 300) * 1.6 + 'px';
    const groups = el('g', { class: 'groups' }, svg);
    for (const grp of L.groups) {
      const gg = el('g', { class: 'group', 'data-namespace': grp.namespace, 'data-cluster': grp.cluster }, groups);
      el('rect', { x: grp.x, y: grp.y, width: grp.w, height: grp.h, rx: 10 }, gg);
      el('text', { x: grp.x + 10, y: grp.y + 17 }, gg).textContent = 'namespace ' + grp.namespace + (grp.cluster ? ' · cluster ' + grp.cluster : '');
    }
    const edges = el('g', { class: 'edges' }, svg);
    for (const e of g.edges) {
      const p = L.edges.get(e.id);
      if (!p) continue;
      const grp = el('g', { class: 'edge', 'data-id': e.id, 'data-source': e.source, 'data-target': e.target, tabindex: '0' }, edges);
      el('path', { class: 'hit', d: pathOf(p.points) }, grp);
      el('path', { class: 'line', d: pathOf(p.points) }, grp);
      const lab = el('g', { class: 'label', transform: 'translate(' + p.label.x + ',' + p.label.y + ')' }, grp);
      el('rect', { width: p.label.w, height: p.label.h, rx: 3 }, lab);
      el('text', { x: 14, y: p.label.h / 2 + 0.5 }, lab);
      lock(lab, 3, 2.5);
      el('title', {}, grp);
      grp.addEventListener('click', function (ev) { ev.stopPropagation(); select('edge', e.id); });
    }
    const nodes = el('g', { class: 'nodes' }, svg);
    for (const n of g.nodes) {
      const b = L.nodes.get(n.id);
      const grp = el('g', { class: 'node ' + n.kind, 'data-id': n.id, 'data-kind': n.kind, 'data-versions': n.versions.map(function (v) { return v.version; }).join(','), transform: 'translate(' + b.x + ',' + b.y + ')', tabindex: '0' }, nodes);
      el('rect', { class: 'box', width: b.w, height: b.h, rx: n.kind === 'app' ? 8 : 16 }, grp);
      const title = n.kind === 'unknown' ? 'unknown' : n.kind === 'external' ? '⇱ ' + n.name : n.kind === 'ingress' ? '⇲ ' + n.name : n.name;
      el('text', { class: 'name', x: b.w / 2, y: n.versions.length > 0 ? 16 : b.h / 2 + 1 }, grp).textContent = title;
      let x = 8;
      for (const v of n.versions) {
        const w = (v.version.length + 5) * 6.4;
        const chip = el('g', { class: 'version', 'data-version': v.version, transform: 'translate(' + x + ',27)' }, grp);
        el('rect', { width: w, height: 16, rx: 8 }, chip);
        el('text', { x: w / 2, y: 8.5 }, chip);
        x += w + 8;
      }
      el('g', { class: 'badges', transform: 'translate(' + (b.w - 4) + ',-6)' }, grp);
      el('title', {}, grp);
      grp.addEventListener('click', function (ev) { ev.stopPropagation(); select('node', n.id); });
    }
    svg.onclick = function () { window.meshletPanel.close(); };
  }

  function update(g) {
    const max = g.edges.reduce(function (m, e) { return Math.max(m, e.rps); }, 0);
    const byId = new Map(g.nodes.map(function (n) { return [n.id, n]; }));
    for (const e of g.edges) {
      const grp = svg.querySelector('.edge[data-id="' + CSS.escape(e.id) + '"]');
      if (!grp) continue;
      grp.setAttribute('data-health', e.health);
      grp.setAttribute('data-mtls', e.mtls);
      grp.setAttribute('data-rps', String(e.rps));
      grp.setAttribute('data-tcp', String(e.tcp));
      const line = grp.querySelector('.line');
      line.style.strokeWidth = widthFor(e.rps, max).toFixed(2) + 'px';
      line.setAttribute('marker-end', 'url(#arrow-' + e.health + ')');
      // Dashes move faster with more traffic: 0.4 s per cycle at the busiest edge, up to 4 s.
      line.classList.toggle('flow', e.rps > 0);
      line.style.animationDuration = (e.rps > 0 ? Math.max(0.4, 4 - 3.6 * Math.log(1 + e.rps) / Math.log(1 + Math.max(max, 1))) : 0).toFixed(2) + 's';
      grp.querySelector('.label text').textContent = edgeLabel(e);
      grp.querySelector('.lock').style.display = e.mtls === 'full' || e.mtls === 'partial' ? '' : 'none';
      const src = byId.get(e.source), dst = byId.get(e.target);
      grp.querySelector(':scope > title').textContent = (src ? src.name : e.source) + ' → ' + (dst ? dst.name : e.target) + ': ' + edgeLabel(e) + (e.p99 !== null ? ' · p99 ' + e.p99.toFixed(1) + ' ms' : '') + ' · mTLS ' + e.mtls;
    }
    const badges = g.badges || {};
    for (const n of g.nodes) {
      const grp = svg.querySelector('.node[data-id="' + CSS.escape(n.id) + '"]');
      if (!grp) continue;
      grp.setAttribute('data-health', n.health);
      for (const v of n.versions) {
        const chip = grp.querySelector('.version[data-version="' + CSS.escape(v.version) + '"] text');
        if (chip) chip.textContent = v.version + (n.versions.length > 1 && n.rpsIn > 0 ? ' ' + (v.share * 100).toFixed(0) + '%' : '');
      }
      const bg = grp.querySelector('.badges');
      while (bg.firstChild) bg.removeChild(bg.firstChild);
      const b = badges[n.id];
      let bx = 0;
      if (b && b.findings > 0) {
        const f = el('g', { class: 'badge finding', transform: 'translate(' + (bx - 14) + ',0)' }, bg);
        el('circle', { cx: 7, cy: 7, r: 8 }, f);
        el('text', { x: 7, y: 7.5 }, f).textContent = String(b.findings);
        el('title', {}, f).textContent = b.findings + ' analyze finding(s)';
        bx -= 20;
      }
      if (b && b.nacks > 0) {
        const f = el('g', { class: 'badge nack', transform: 'translate(' + (bx - 38) + ',0)' }, bg);
        el('rect', { width: 38, height: 15, rx: 4 }, f);
        el('text', { x: 19, y: 8 }, f).textContent = 'NACK';
        el('title', {}, f).textContent = b.nacks + ' proxy(ies) rejected their config';
      }
      grp.querySelector(':scope > title').textContent = n.name + (n.namespace ? '.' + n.namespace : '') + ' · ' + fmtRps(n.rpsIn) + ' rps in · ' + (n.successRate * 100).toFixed(1) + '% ok';
    }
  }

  async function tick() {
    try {
      const r = await fetch('/ui/graph.json?window=' + state.window, { cache: 'no-store' });
      const g = await r.json();
      if (!r.ok) throw new Error(g.message || r.status);
      state.graph = g;
      const shape = shapeOf(g);
      const t0 = performance.now();
      if (shape !== state.shape) {
        draw(g);
        state.shape = shape;
        if (state.selected) {
          const s = state.selected;
          const still = s.kind === 'node' ? svg.querySelector('.node[data-id="' + CSS.escape(s.id) + '"]') : svg.querySelector('.edge[data-id="' + CSS.escape(s.id) + '"]');
          if (still) still.classList.add('selected');
        }
      }
      update(g);
      svg.setAttribute('data-render-ms', (performance.now() - t0).toFixed(1));
      statusEl.textContent = g.nodes.length + ' apps, ' + g.edges.length + ' calls · last ' + g.window + ' · from ' + g.source + ' · ' + g.generatedAt.slice(11, 19) + ' UTC';
      errorsEl.textContent = g.errors.map(function (e) { return e.message + ' [' + e.code + ']'; }).join('\n');
      window.meshletPanel.refresh(state);
      document.body.setAttribute('data-ready', 'true');
    } catch (err) {
      statusEl.textContent = 'cannot load graph: ' + err;
    }
  }

  const params = new URLSearchParams(location.search);
  if (['1m', '5m', '15m'].includes(params.get('window'))) state.window = params.get('window');
  windowEl.value = state.window;
  windowEl.addEventListener('change', function () {
    state.window = windowEl.value;
    params.set('window', state.window);
    history.replaceState(null, '', '?' + params.toString());
    tick();
  });
  window.meshletGraph = { state: state, draw: draw, update: update, shapeOf: shapeOf };
  if (!window.meshletNoPoll) {
    tick();
    setInterval(tick, window.meshletRefreshMs || 2000);
  }
})();
