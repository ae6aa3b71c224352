/**
 * Whether every watched resource has been listed once (or found not served: a CRD not
 * installed). Until then the store holds a partial view, which must never reach a proxy.
 * Becoming ready is one-way: a later watch failure keeps serving the last known state. Pure.
 */
export type ListState = 'pending' | 'listed' | 'missing';

export interface ReadinessReport {
  ready: boolean;
  /** Resources (`plural.group/version`) not listed yet. */
  pending: string[];
  /** Resources the apiserver does not serve (404), counted as empty. */
  missing: string[];
}

export class ListReadiness {
  private readonly state = new Map<string, ListState>();
  private readonly onReady: (r: ReadinessReport) => void;
  private ready = false;

  constructor(names: readonly string[], onReady: (r: ReadinessReport) => void) {
    for (const n of names) this.state.set(n, 'pending');
    this.onReady = onReady;
  }

  listed(name: string): void {
    this.set(name, 'listed');
  }

  missing(name: string): void {
    this.set(name, 'missing');
  }

  private set(name: string, s: ListState): void {
    if (!this.state.has(name)) return;
    this.state.set(name, s);
    if (this.ready || [...this.state.values()].includes('pending')) return;
    this.ready = true;
    this.onReady(this.report());
  }

  report(): ReadinessReport {
    const of = (s: ListState): string[] => [...this.state].filter(([, v]) => v === s).map(([k]) => k);
    return { ready: this.ready, pending: of('pending'), missing: of('missing') };
  }
}
