/** The demo's live table: one row per (route, subset) the frontend's calls to reviews took. */
import type { RowStats } from './stats.ts';

export interface Row extends RowStats {
  route: string;
  subset: string;
  /** Share of its route's requests in the window, percent. */
  share: number;
}

export function rowsOf(stats: RowStats[]): Row[] {
  const byRoute = new Map<string, number>();
  const rows = stats.map((s) => {
    const [route = '?', subset = '?'] = s.key.split('\t');
    byRoute.set(route, (byRoute.get(route) ?? 0) + s.count);
    return { ...s, route, subset, share: 0 };
  });
  for (const r of rows) r.share = (r.count / (byRoute.get(r.route) ?? 1)) * 100;
  return rows;
}

export function renderTable(rows: Row[], elapsedS: number, totalS: number | undefined, note: string): string {
  const head = ['ROUTE (frontend → reviews)', 'SUBSET', 'SHARE', 'REQ/S', 'SUCCESS', 'P50', 'P99'];
  const body = rows.map((r) => [r.route, r.subset, `${r.share.toFixed(0)}%`, r.rps.toFixed(1), `${(r.success * 100).toFixed(1)}%`, `${r.p50.toFixed(0)}ms`, `${r.p99.toFixed(0)}ms`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const lines = [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  const bar = totalS === undefined ? `${elapsedS.toFixed(0)}s (keep running: Ctrl-C to stop)` : `[${'#'.repeat(Math.round((elapsedS / totalS) * 30)).padEnd(30, '.')}] ${elapsedS.toFixed(0)}s / ${totalS}s`;
  return `${lines.join('\n')}\n${rows.length === 0 ? '(waiting for the first responses…)\n' : ''}${bar}${note === '' ? '' : `   ${note}`}\n`;
}
