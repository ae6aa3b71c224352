/**
 * One log line when an object starts being served stale (its last good version) or fail
 * closed (a stand-in), and one when it recovers: the operator's word that what proxies
 * enforce is not what the user last wrote. Both modes; status carries the same in cluster mode.
 */
import type { Logger } from '../../common/log.ts';
import type { Store, StoreEntry } from './store.ts';

function where(e: StoreEntry): string {
  return e.origin.file === undefined ? '' : ` (${e.origin.file}${e.origin.line === undefined ? '' : `:${e.origin.line}`})`;
}

function why(e: StoreEntry): string {
  const m = e.messages.find((x) => x.level === 'error');
  return m === undefined ? 'invalid' : `${m.code}: ${m.path === '' ? '' : `${m.path}: `}${m.message}`;
}

export class StaleReporter {
  private readonly log: Logger;
  private readonly store: Store;
  /** Per key: the serving state last logged. */
  private readonly state = new Map<string, string>();

  constructor(store: Store, log: Logger) {
    this.store = store;
    this.log = log;
  }

  /** Looks at the keys a store change touched. */
  observe(keys: readonly string[]): void {
    for (const key of keys) {
      const e = this.store.get(key);
      const now = e === undefined || e.serving === 'latest' || e.serving === 'none' ? '' : e.serving;
      const before = this.state.get(key) ?? '';
      if (now === before) continue;
      if (now === '') this.state.delete(key);
      else this.state.set(key, now);
      const name = key.replaceAll('/', ' ').replace(/ (\S*) (\S+)$/, ' $1/$2');
      if (e !== undefined && now === 'stale') {
        this.log.warn({ code: 'MESHLET_OPERATOR_OBJECT_STALE', object: key, reason: why(e) }, `${name}${where(e)} is stale: its latest version is not applied (${why(e)}); proxies keep its last good version`);
      } else if (e !== undefined && now === 'fail-closed') {
        this.log.error({ code: 'MESHLET_OPERATOR_FAIL_CLOSED', object: key, reason: why(e) }, `${name}${where(e)} has no valid version (${why(e)}); the workloads it selects fail closed`);
      } else if (before !== '') {
        this.log.info({ object: key }, `${name} is ${e === undefined ? 'removed' : 'valid again'}; no longer ${before}`);
      }
    }
  }
}
