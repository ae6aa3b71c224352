/**
 * Applies snapshots: validate, compile, swap atomically. A snapshot that fails validation
 * or compilation changes nothing and is reported as a NACK with a catalog code.
 */
import { errorEntry, type ErrorCode } from '../../common/errors.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { validateSnapshot } from '../../common/snapshot-validate.ts';
import type { ProxyState } from '../http/handle-request.ts';
import { compileSnapshot, type CompileOptions } from '../runtime/compile-snapshot.ts';
import type { PoolRegistry } from '../upstream/pools.ts';

export type ApplyResult = { ok: true; version: string } | { ok: false; version: string; code: ErrorCode; error: string };

export interface NackRecord {
  version: string;
  code: string;
  error: string;
  at: string;
}

export class ConfigStore {
  readonly state: ProxyState;
  private readonly opts: CompileOptions;
  private readonly pools: PoolRegistry;
  lastNack: NackRecord | undefined;
  /** Where the current snapshot came from (`file:<path>` or the operator URL). */
  source = '';
  private readonly listeners: ((version: string) => void)[] = [];

  constructor(state: ProxyState, opts: CompileOptions) {
    this.state = state;
    this.opts = opts;
    this.pools = opts.pools;
  }

  get version(): string {
    return this.state.current?.snapshot.version ?? '';
  }

  onApplied(cb: (version: string) => void): void {
    this.listeners.push(cb);
  }

  /** Parses (when given text), validates, compiles and swaps in. Never throws. */
  apply(input: string | unknown): ApplyResult {
    let value: unknown = input;
    if (typeof input === 'string') {
      try {
        value = JSON.parse(input);
      } catch (err) {
        return this.nack('', 'MESHLET_SNAPSHOT_PARSE', (err as Error).message);
      }
    }
    const version = typeof (value as { version?: unknown } | null)?.version === 'string' ? (value as { version: string }).version : '';
    const v = validateSnapshot(value);
    if (!v.ok) {
      const first = v.errors[0]!;
      return this.nack(version, 'MESHLET_SNAPSHOT_INVALID', `${first.path}: ${first.reason}${v.errors.length > 1 ? ` (and ${v.errors.length - 1} more)` : ''}`);
    }
    return this.swap(v.snapshot);
  }

  private swap(s: ProxySnapshot): ApplyResult {
    let rt;
    try {
      rt = compileSnapshot(s, this.opts, this.state.current);
    } catch (err) {
      return this.nack(s.version, 'MESHLET_PROXY_CONFIG_COMPILE', (err as Error).message);
    }
    this.state.current = rt;
    this.pools.retain(rt.poolKeys);
    for (const cb of this.listeners) cb(s.version);
    return { ok: true, version: s.version };
  }

  private nack(version: string, code: ErrorCode, error: string): ApplyResult {
    errorEntry(code);
    this.lastNack = { version, code, error, at: new Date().toISOString() };
    return { ok: false, version, code, error };
  }
}
