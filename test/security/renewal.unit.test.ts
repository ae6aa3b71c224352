/**
 * Workload certificate renewal on virtual time: certificates come from the real CA (which
 * backdates notBefore by 60 s), the manager's clock and timers are injected. With a 1-minute
 * TTL a renewal is due 30 s after arrival, not at once (a renewal storm); after a 3-minute CA
 * outage the renewal follows the CA's return within seconds; an operator answer resets the
 * backoff and renews at once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateAuthority } from '../../operator/ca/authority.ts';
import { describeLeaf, WorkloadCertManager, type Scheduler } from '../../proxy/security/workload-cert.ts';
import { tempDir, testCa } from './helpers.ts';

let dirs: ReturnType<typeof tempDir>;
let ca: CertificateAuthority;
let now = 0;

before(async () => {
  dirs = tempDir('renewal');
  now = Date.parse('2026-01-01T00:00:00Z');
  ca = await testCa(dirs.dir, () => now);
});
after(() => dirs?.cleanup());

/** A virtual timer queue and a CA that can be switched off. */
function rig(ttlMs: number) {
  const timers: { fn: () => void; at: number }[] = [];
  const schedule: Scheduler = (fn, delay) => {
    const t = { fn, at: now + delay };
    timers.push(t);
    return () => {
      const i = timers.indexOf(t);
      if (i >= 0) timers.splice(i, 1);
    };
  };
  const state = { up: true, calls: 0, last: Promise.resolve() as Promise<unknown> };
  const request = (csrPem: string) => {
    state.calls += 1;
    const p = state.up ? ca.sign(csrPem, 'spiffe://cluster.local/ns/a/sa/web', ttlMs).then((c) => ({ certChain: c.certChainPem, rootCert: c.rootCertPem })) : Promise.reject(new Error('connect ECONNREFUSED'));
    state.last = p.catch(() => undefined);
    return p;
  };
  const mgr = new WorkloadCertManager({ request, now: () => now, schedule, retryBaseMs: 1000 });
  /** Waits (bounded, real time) for the renewal started after `calls` requests to finish. */
  const settle = async (calls: number): Promise<void> => {
    for (let i = 0; i < 500 && state.calls === calls; i++) await new Promise((r) => setTimeout(r, 2));
    await state.last;
    await new Promise((r) => setImmediate(r));
  };
  /** Runs due timers up to `until` (virtual ms), each renewal to completion; bounded. */
  const advance = async (until: number): Promise<void> => {
    for (let i = 0; i < 1000; i++) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (next === undefined || next.at > until) break;
      timers.shift();
      now = Math.max(now, next.at);
      const calls = state.calls;
      next.fn();
      await settle(calls);
    }
    now = Math.max(now, until);
  };
  return { timers, state, mgr, advance, settle };
}

test('1-minute TTL: renewal due 30 s after arrival, not at once (backdated notBefore)', async () => {
  const { timers, state, mgr, advance } = rig(60_000);
  const first = await mgr.start();
  assert.equal(first.notAfter.getTime() - first.notBefore.getTime(), 120_000, 'the CA backdates 60 s');
  const t0 = now;
  assert.equal(timers.length, 1);
  assert.equal(timers[0]!.at - t0, 30_000, 'half of the usable minute');
  // Ten virtual minutes: about 20 renewals, not thousands.
  await advance(t0 + 600_000);
  assert.ok(state.calls <= 21 && state.calls >= 19, `${state.calls} certificate requests in 10 virtual minutes`);
  mgr.stop();
});

test('after a 3-minute CA outage the renewal follows the CA back within seconds', async () => {
  const { state, mgr, advance } = rig(60_000);
  const first = await mgr.start();
  const t0 = now;
  state.up = false;
  await advance(t0 + 180_000);
  const failed = state.calls - 1;
  assert.ok(failed > 0, 'renewals were attempted during the outage');
  state.up = true;
  const back = now;
  await advance(back + 5_000);
  const cur = mgr.current()!;
  assert.notEqual(cur.serial, first.serial, `renewed within 5 s of the CA's return (${failed} failed attempts before)`);
  assert.ok(describeLeaf(cur.certChainPem).notAfter.getTime() > back, 'a valid certificate again');
  mgr.stop();
});

test('an operator answer resets the backoff and renews at once', async () => {
  const { state, mgr, advance, settle } = rig(3_600_000);
  const first = await mgr.start();
  state.up = false;
  // Renewal due at 30 min; fail for another 20 virtual minutes (backoff grows to minutes).
  await advance(now + 50 * 60_000);
  const before = state.calls;
  state.up = true;
  mgr.operatorAnswered();
  await settle(before);
  assert.equal(state.calls, before + 1, 'one request at once');
  assert.notEqual(mgr.current()!.serial, first.serial);
  mgr.stop();
});
