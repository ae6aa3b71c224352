// Draws /ui/graph.json as SVG: nodes in columns by call depth, edges as arrows coloured by
// health. No framework: the page must work offline and load instantly.
/* global document, window */
'use strict';
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.getElementById('graph');
  const statusEl = document.getElementById('status');
  const errorsEl = document.getElementById('errors');
  const W = 170, H = 34, COL = 400, ROW = 80, PAD = 30;

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function layout(g) {
    const incoming = new Map(g.nodes.map((n) => [n.id, 0]));
    for (const e of g.edges) incoming.set(e.target, (incoming.get(e.target) || 0) + 1);
    const depth = new Map();
    const queue = g.nodes.filter((n) => incoming.get(n.id) === 0).map((n) => n.id);
    for (const id of queue) depth.set(id, 0);
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i];
      for (const e of g.edges) {
        if (e.source === id && !depth.has(e.target)) {
          depth.set(e.target, depth.get(id) + 1);
          queue.push(e.target);
        }
      }
    }
    for (const n of g.nodes) if (!depth.has(n.id)) depth.set(n.id, 0);
    const cols = new Map();
    const pos = new Map();
    for (const n of g.nodes) {
      const d = depth.get(n.id);
      const row = cols.get(d) || 0;
      cols.set(d, row + 1);
      pos.set(n.id, { x: PAD + d * COL, y: PAD + row * ROW });
    }
    return pos;
  }

  function label(e) {
    if (e.tcp) return e.rps.toFixed(2) + ' conn/s · TCP' + (e.mtls ? ' · mTLS' : '');
    const parts = [e.rps.toFixed(2) + ' rps', (e.successRate * 100).toFixed(1) + '%'];
    if (e.p99Ms !== null) parts.push('p99 ' + e.p99Ms.toFixed(1) + ' ms');
    if (e.mtls) parts.push('mTLS');
    return parts.join(' · ');
  }

  function draw(g) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const defs = el('defs', {}, svg);
    const m = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#555' }, m);
    const pos = layout(g);
    let maxX = 0, maxY = 0;
    for (const p of pos.values()) { maxX = Math.max(maxX, p.x + W); maxY = Math.max(maxY, p.y + H); }
    svg.setAttribute('viewBox', '0 0 ' + (maxX + PAD) + ' ' + (maxY + PAD));
    svg.setAttribute('height', String(Math.max(200, maxY + PAD)));
    for (const e of g.edges) {
      const a = pos.get(e.source), b = pos.get(e.target);
      if (!a || !b) continue;
      const grp = el('g', { class: 'edge', 'data-source': e.source, 'data-target': e.target, 'data-health': e.health, 'data-mtls': String(e.mtls), 'data-rps': String(e.rps), 'data-tcp': String(e.tcp) }, svg);
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      el('line', { x1: x1, y1: y1, x2: x2, y2: y2 }, grp);
      const t = el('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6 }, grp);
      t.textContent = label(e);
      el('title', {}, grp).textContent = e.source + ' → ' + e.target + ': ' + label(e);
    }
    for (const n of g.nodes) {
      const p = pos.get(n.id);
      const grp = el('g', { class: 'node ' + n.kind, 'data-id': n.id, transform: 'translate(' + p.x + ',' + p.y + ')' }, svg);
      el('rect', { width: W, height: H }, grp);
      const t = el('text', { x: W / 2, y: H / 2 }, grp);
      t.textContent = (n.kind === 'service' ? '◆ ' : '') + n.name + (n.namespace && n.kind !== 'unknown' ? '.' + n.namespace : '');
    }
  }

  async function tick() {
    try {
      const r = await fetch('/ui/graph.json', { cache: 'no-store' });
      const g = await r.json();
      draw(g);
      statusEl.textContent = g.nodes.length + ' nodes, ' + g.edges.length + ' edges · from ' + g.source + ' · ' + g.generatedAt;
      errorsEl.textContent = g.errors.map((e) => e.message + ' [' + e.code + ']').join('\n');
    } catch (err) {
      statusEl.textContent = 'cannot load graph: ' + err;
    }
  }
  tick();
  setInterval(tick, window.meshletRefreshMs || 2000);
})();
