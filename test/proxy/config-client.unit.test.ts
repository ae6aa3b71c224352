/**
 * The long-poll client on virtual time: a scripted transport, a fake clock and an injected
 * random source. Checks ACK/NACK query strings, the jittered exponential backoff, that a
 * failing operator never touches the applied config, and the backoff on a repeated bad snapshot.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigClient, type ClientEvent, type FetchResult } from '../../proxy/config/client.ts';
import { backoffDelay } from '../../proxy/config/backoff.ts';
import { ConfigStore } from '../../proxy/config/store.ts';
import { PoolRegistry } from '../../proxy/upstream/pools.ts';

const basic = readFileSync(new URL('../fixtures/snapshots/basic.json', import.meta.url), 'utf8');
const withVersion = (v: string) => JSON.stringify({ ...JSON.parse(basic), version: v });
const invalid = (v: string) => JSON.stringify({ ...JSON.parse(basic), version: v, clusters: 'nope' });

function harness(script: ((url: string) => FetchResult | Error)[]) {
  const pools = new PoolRegistry();
  const store = new ConfigStore({ current: undefined, random: () => 0.5, onError: () => undefined }, { pools, random: () => 0.5, appHost: '127.0.0.1', inboundSource: undefined });
  const urls: string[] = [];
  const sleeps: number[] = [];
  const events: ClientEvent[] = [];
  let step = 0;
  const client: ConfigClient = new ConfigClient({
    operator: 'https://operator.test:15012',
    proxyId: 'web-1.default',
    store,
    fetch: async (url) => {
      urls.push(url);
      const next = script[step++];
      if (next === undefined) {
        client.stop();
        throw new Error('script done');
      }
      const r = next(url);
      if (r instanceof Error) throw r;
      return r;
    },
    // Virtual time: record the delay, fire on the next microtask.
    setTimeout: (cb, ms) => {
      sleeps.push(ms);
      queueMicrotask(cb);
      return ms;
    },
    clearTimeout: () => undefined,
    random: () => 0.5,
    backoff: { baseMs: 100, maxMs: 1000 },
    onEvent: (e) => events.push(e),
  });
  return { client, store, urls, sleeps, events, pools };
}

describe('config client (virtual time)', () => {
  it('backs off with full jitter while the operator is away, then applies and ACKs', async () => {
    const down = () => new Error('ECONNREFUSED');
    const h = harness([down, down, down, down, down, () => ({ status: 200, body: withVersion('v1') }), () => ({ status: 304, body: '' })]);
    await h.client.run();
    // random()=0.5 → half of min(max, base·2^attempt): 50, 100, 200, 400, 500 (capped at 1000).
    assert.deepEqual(h.sleeps, [50, 100, 200, 400, 500]);
    assert.equal(h.store.version, 'v1');
    assert.match(h.urls[0]!, /\/v1\/config\?proxy=web-1.default&version=$/);
    assert.match(h.urls[6]!, /version=v1&ack=v1$/);
    assert.match(h.urls[7]!, /version=v1$/, 'a 304 carries no ack');
    await h.pools.closeAll();
  });

  it('NACKs an invalid snapshot with its code, keeps the old config, and slows down on a repeat', async () => {
    const h = harness([() => ({ status: 200, body: withVersion('v1') }), () => ({ status: 200, body: invalid('v2') }), () => ({ status: 200, body: invalid('v2') }), () => ({ status: 200, body: 'not json' })]);
    await h.client.run();
    assert.equal(h.store.version, 'v1');
    const u = new URL(h.urls[2]!);
    assert.equal(u.searchParams.get('version'), 'v1');
    assert.equal(u.searchParams.get('nack'), 'v2');
    assert.match(u.searchParams.get('error') ?? '', /^MESHLET_SNAPSHOT_INVALID: clusters: must be an array/);
    assert.equal(h.sleeps.length, 1, 'only the repeated bad snapshot waits');
    assert.match(decodeURIComponent(h.urls[4]!), /error=MESHLET_SNAPSHOT_PARSE: /);
    assert.equal(h.store.lastNack?.code, 'MESHLET_SNAPSHOT_PARSE');
    await h.pools.closeAll();
  });

  it('caps the backoff at maxMs', () => {
    assert.equal(backoffDelay({ baseMs: 100, maxMs: 1000 }, 40, () => 0.999), 999);
    assert.equal(backoffDelay({ baseMs: 100, maxMs: 1000 }, 0, () => 0), 0);
  });
});
