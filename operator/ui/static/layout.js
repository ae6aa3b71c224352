// Layered layout of the app graph with dagre (bundled from its npm package, served at
// /ui/static/dagre.min.js): apps are nodes, namespaces are compound (cluster) nodes around
// them, and every edge label is a dagre label node, so labels get their own space and never
// sit on a box. Pure: graph in, boxes and edge points out (the benchmark calls it too).
/* global window, dagre */
'use strict';
(function () {
  const CHAR = 7.2;
  const LABEL_W = 112, LABEL_H = 16;

  function nodeSize(n) {
    const title = (n.kind === 'external' ? '⇱ ' : n.kind === 'unknown' ? '' : '') + n.name;
    const chips = n.versions.reduce(function (w, v) { return w + (v.version.length + 5) * 6.4 + 8; }, 0);
    const w = Math.max(96, Math.ceil(title.length * CHAR) + 28, Math.ceil(chips) + 16);
    return { w: w, h: n.versions.length > 0 ? 50 : 32 };
  }

  function groupOf(n) {
    if (n.kind === 'unknown' || n.kind === 'external') return null;
    return 'ns:' + (n.cluster ? n.cluster + '/' : '') + n.namespace;
  }

  function layout(graph) {
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
    g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 70, edgesep: 14, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(function () { return {}; });
    const groups = new Map();
    for (const n of graph.nodes) {
      const s = nodeSize(n);
      g.setNode(n.id, { width: s.w, height: s.h });
      const grp = groupOf(n);
      if (grp !== null) {
        if (!groups.has(grp)) {
          groups.set(grp, { namespace: n.namespace, cluster: n.cluster || '' });
          g.setNode(grp, { paddingTop: 26, paddingLeft: 12, paddingRight: 12, paddingBottom: 12 });
        }
        g.setParent(n.id, grp);
      }
    }
    for (const e of graph.edges) {
      if (e.source === e.target) continue;
      g.setEdge(e.source, e.target, { width: LABEL_W, height: LABEL_H, labelpos: 'c', minlen: 1 });
    }
    dagre.layout(g);
    const out = { nodes: new Map(), edges: new Map(), groups: [], width: 0, height: 0 };
    for (const n of graph.nodes) {
      const d = g.node(n.id);
      out.nodes.set(n.id, { x: d.x - d.width / 2, y: d.y - d.height / 2, w: d.width, h: d.height });
    }
    for (const [id, meta] of groups) {
      const d = g.node(id);
      out.groups.push({ id: id, namespace: meta.namespace, cluster: meta.cluster, x: d.x - d.width / 2, y: d.y - d.height / 2, w: d.width, h: d.height });
    }
    for (const e of graph.edges) {
      if (e.source === e.target) continue;
      const d = g.edge(e.source, e.target);
      if (!d) continue;
      out.edges.set(e.id, { points: d.points, label: { x: d.x - LABEL_W / 2, y: d.y - LABEL_H / 2, w: LABEL_W, h: LABEL_H } });
    }
    const gg = g.graph();
    out.width = gg.width || 0;
    out.height = gg.height || 0;
    return out;
  }

  window.meshletLayout = layout;
})();
