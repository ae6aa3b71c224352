/**
 * The one store both sources feed. It keeps, per object, the latest version seen, its
 * validation messages and the last version that passed validation: the World is built
 * from what each entry serves — its latest version when valid, else its last good one
 * (stale), else, for security kinds, a fail-closed stand-in (see fail-closed.ts).
 */
import type { K8sObject, ObjectOrigin } from '../world/objects.ts';
import { isMeshKind, objectKey } from '../world/objects.ts';
import { createHash } from 'node:crypto';
import { stableStringify } from '../world/hash.ts';
import { validateMeshObject, type ValidationMessage } from './validate.ts';
import { failClosedStandIn } from './fail-closed.ts';

/** What an entry puts into the World: its latest version, its last good one, a stand-in, or nothing. */
export type Serving = 'latest' | 'stale' | 'fail-closed' | 'none';

export interface StoreEntry {
  key: string;
  /** The latest version seen. */
  object: K8sObject;
  origin: ObjectOrigin;
  messages: ValidationMessage[];
  /** The last version without error-level messages. */
  accepted?: K8sObject;
  /** What the World uses: `accepted`, or a fail-closed stand-in when there is none. */
  served?: K8sObject;
  serving: Serving;
  /** Line of a field path, when the source knows it (local files). */
  lineOf?: (path: string) => number | undefined;
}

export interface StoreChange {
  /** Keys whose World-relevant content changed (add, update, delete). */
  content: string[];
  /** Mesh object keys whose status-relevant state may differ (includes `content`). */
  status: string[];
}

export type Validator = (o: K8sObject) => ValidationMessage[];

export interface Incoming {
  object: K8sObject;
  origin?: ObjectOrigin;
  lineOf?: (path: string) => number | undefined;
  /** The source could not read this object whole (a document that does not parse): it is invalid. */
  unreadable?: ValidationMessage;
}

/** What translation may see of an object: no status (mesh kinds), no server bookkeeping. */
function worldView(o: K8sObject): K8sObject {
  const { managedFields: _mf, resourceVersion: _rv, ...metadata } = o.metadata as K8sObject['metadata'] & { managedFields?: unknown };
  const out: K8sObject = { ...o, metadata };
  if (isMeshKind(o.kind)) delete out.status;
  return out;
}

export class Store {
  private readonly entries = new Map<string, StoreEntry>();
  /** Per key: digest of the accepted version's stable JSON ('' when none is accepted). */
  private readonly contentKeys = new Map<string, string>();
  /** XOR of sha1(key, digest) over accepted objects: order-free, updated per change. */
  private readonly fingerprintAcc = Buffer.alloc(20);
  private readonly listeners: ((c: StoreChange) => void)[] = [];
  private readonly validate: Validator;

  constructor(validate: Validator = validateMeshObject) {
    this.validate = validate;
  }

  onChange(fn: (c: StoreChange) => void): void {
    this.listeners.push(fn);
  }

  private emit(c: StoreChange): void {
    if (c.content.length === 0 && c.status.length === 0) return;
    for (const l of this.listeners) l(c);
  }

  /** Adds or updates; returns nothing, listeners hear about real changes only. */
  upsert(inc: Incoming): void {
    const c: StoreChange = { content: [], status: [] };
    this.apply(inc, c);
    this.emit(c);
  }

  remove(key: string): void {
    if (!this.entries.has(key)) return;
    this.entries.delete(key);
    this.setDigest(key, '');
    this.emit({ content: [key], status: [] });
  }

  /** Replaces every entry for which `owns(key)` holds with `objects` (a relist, or a directory reload). */
  replace(objects: Incoming[], owns: (key: string) => boolean): void {
    const c: StoreChange = { content: [], status: [] };
    const seen = new Set<string>();
    for (const inc of objects) {
      seen.add(objectKey(inc.object));
      this.apply(inc, c);
    }
    for (const key of [...this.entries.keys()]) {
      if (owns(key) && !seen.has(key)) {
        this.entries.delete(key);
        this.setDigest(key, '');
        c.content.push(key);
      }
    }
    this.emit(c);
  }

  private apply(inc: Incoming, c: StoreChange): void {
    const key = objectKey(inc.object);
    const prev = this.entries.get(key);
    // The very same object again (an unchanged file on reload): nothing to do.
    if (prev !== undefined && prev.object === inc.object) return;
    const obj = worldView(inc.object);
    const messages = inc.unreadable !== undefined ? [inc.unreadable] : isMeshKind(obj.kind) ? this.validate(inc.object) : [];
    const ok = !messages.some((m) => m.level === 'error');
    const accepted = ok ? obj : prev?.accepted;
    // No good version of a security object: serve its most restrictive reading, never nothing.
    const standIn = accepted === undefined ? failClosedStandIn(obj) : undefined;
    const served = accepted ?? standIn;
    const serving: Serving = ok ? 'latest' : accepted !== undefined ? 'stale' : standIn !== undefined ? 'fail-closed' : 'none';
    const entry: StoreEntry = { key, object: inc.object, origin: inc.origin ?? {}, messages, serving };
    if (inc.lineOf !== undefined) entry.lineOf = inc.lineOf;
    if (accepted !== undefined) entry.accepted = accepted;
    if (served !== undefined) entry.served = served;
    this.entries.set(key, entry);
    const content = served === undefined ? '' : served === prev?.served ? (this.contentKeys.get(key) ?? '') : createHash('sha256').update(stableStringify(served)).digest('base64');
    if (this.contentKeys.get(key) !== content) {
      this.setDigest(key, content);
      c.content.push(key);
    }
    if (isMeshKind(obj.kind) || inc.unreadable !== undefined) c.status.push(key);
  }

  private setDigest(key: string, digest: string): void {
    const old = this.contentKeys.get(key) ?? '';
    if (old !== '') this.xor(key, old);
    if (digest !== '') {
      this.xor(key, digest);
      this.contentKeys.set(key, digest);
    } else this.contentKeys.delete(key);
  }

  private xor(key: string, digest: string): void {
    const h = createHash('sha1').update(key).update('\n').update(digest).digest();
    for (let i = 0; i < 20; i++) this.fingerprintAcc[i] = (this.fingerprintAcc[i] as number) ^ (h[i] as number);
  }

  /** Digest of every accepted object (what buildWorld reads), kept up to date per change. */
  fingerprint(): string {
    return this.fingerprintAcc.toString('hex').slice(0, 16);
  }

  get(key: string): StoreEntry | undefined {
    return this.entries.get(key);
  }

  all(): StoreEntry[] {
    return [...this.entries.values()];
  }

  /** What every entry serves (accepted versions and fail-closed stand-ins): the input of buildWorld. */
  acceptedObjects(): K8sObject[] {
    const out: K8sObject[] = [];
    for (const e of this.entries.values()) if (e.served !== undefined) out.push(e.served);
    return out;
  }

  /** Objects whose latest version has errors. */
  invalid(): StoreEntry[] {
    return this.all().filter((e) => e.messages.some((m) => m.level === 'error'));
  }
}
