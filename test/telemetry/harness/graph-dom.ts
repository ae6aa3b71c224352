/**
 * DOM checks for the service graph page, computed from the rendered boxes in Chromium:
 * which app nodes appear (with their versions), overlapping node boxes, edge labels lying
 * over a node, and a click on an edge that waits for its side panel.
 */
import type { Page } from 'playwright-core';

export interface Box { id: string; x: number; y: number; w: number; h: number }

type Doc = { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null; closest(s: string): { getAttribute(n: string): string | null } | null; getBoundingClientRect(): { x: number; y: number; width: number; height: number } }> };

export async function nodeVersions(page: Page): Promise<Record<string, string[]>> {
  const rows = await page.$$eval('.node', (els) => els.map((e) => [e.getAttribute('data-id') ?? '', e.getAttribute('data-versions') ?? '']));
  const out: Record<string, string[]> = {};
  for (const [id, v] of rows) {
    if (out[id!] !== undefined) throw new Error(`node ${id} drawn twice`);
    out[id!] = v === '' ? [] : v!.split(',');
  }
  return out;
}

async function boxes(page: Page, selector: string, idOf: string): Promise<Box[]> {
  return page.evaluate(([sel, attr]) => {
    const doc = (globalThis as unknown as { document: Doc }).document;
    return Array.from(doc.querySelectorAll(sel)).map((e) => {
      const r = e.getBoundingClientRect();
      return { id: e.closest(attr === 'data-id' ? '[data-id]' : '.edge')?.getAttribute('data-id') ?? '', x: r.x, y: r.y, w: r.width, h: r.height };
    });
  }, [selector, idOf] as const);
}

const overlap = (a: Box, b: Box, slack = 0.5): boolean => a.x + slack < b.x + b.w && b.x + slack < a.x + a.w && a.y + slack < b.y + b.h && b.y + slack < a.y + a.h;

/** Pairs of overlapping node boxes, and (edge label, node) pairs that overlap. Empty = clean. */
export async function layoutProblems(page: Page): Promise<string[]> {
  const nodes = await boxes(page, '.node .box', 'data-id');
  const labels = await boxes(page, '.edge .label rect', 'edge');
  const out: string[] = [];
  for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) if (overlap(nodes[i]!, nodes[j]!)) out.push(`nodes ${nodes[i]!.id} and ${nodes[j]!.id} overlap`);
  for (const l of labels) for (const n of nodes) if (overlap(l, n)) out.push(`label of edge ${l.id} lies over node ${n.id}`);
  return out;
}

export const edgeSel = (from: string, to: string): string => `.edge[data-source="${from}"][data-target="${to}"]`;

type Styled = { getComputedStyle(x: unknown): { stroke: string } };
export async function strokeOf(page: Page, selector: string): Promise<string> {
  return page.$eval(`${selector} .line`, (e) => (globalThis as unknown as Styled).getComputedStyle(e).stroke);
}

/** Clicks the edge's label and waits until the side panel has its details. */
export async function openEdgePanel(page: Page, selector: string): Promise<void> {
  await page.click(`${selector} .label`);
  await page.waitForSelector('#panel[data-kind="edge"][data-loaded="true"]', { timeout: 15_000 });
}
