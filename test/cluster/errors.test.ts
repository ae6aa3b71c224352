// Bad input and teardown: every failure must say what is wrong, exit non-zero,
// and leave no etcd/kube-apiserver behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, run } from './binaries.ts';
import { startCluster } from './cluster.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ENSURE = join(HERE, 'ensure-binaries.ts');

let scratch: string;
before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'meshlet-harness-errors-'));
  // The cluster tests below need the binaries; build/reuse once up front.
  await ensureBinaries();
}, { timeout: 45 * 60_000 });
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs ensure-binaries.ts against an empty cache, so it has to build. */
function ensureWithEmptyCache(env: NodeJS.ProcessEnv): ReturnType<typeof run> {
  const cache = mkdtempSync(join(scratch, 'cache-'));
  return run(process.execPath, [ENSURE], { env: { ...process.env, MESHLET_K8S_CACHE: cache, ...env }, timeoutMs: 120_000 });
}

/** Pids of live processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

async function waitUntilGone(needle: string, timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesMentioning(needle);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(200);
    left = processesMentioning(needle);
  }
  return left;
}

describe('ensure-binaries bad input', () => {
  test('Go missing: clear message, non-zero exit', async () => {
    const r = await ensureWithEmptyCache({ MESHLET_GO: join(scratch, 'no-such-go') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Go is needed to build .* was not found on PATH\. Install Go >= 1\.24\.0/);
  });

  test('Go too old: clear message, non-zero exit', async () => {
    const fakeGo = join(scratch, 'old-go');
    writeFileSync(fakeGo, '#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go1.21.13 && exit 0\nexit 2\n');
    chmodSync(fakeGo, 0o755);
    const r = await ensureWithEmptyCache({ MESHLET_GO: fakeGo });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Go 1\.21\.13 .* is too old: building the pinned Kubernetes binaries needs Go >= 1\.24\.0/);
  });

  // Needs a working Go (it gets as far as downloading); a machine with a copied cache may have none.
  const noGo = spawnSync(process.env.MESHLET_GO || 'go', ['version']).error !== undefined;
  test('module proxy unreachable: clear message, non-zero exit', { skip: noGo ? 'Go is not installed' : false }, async () => {
    // A closed port and an empty module cache, so Go must fetch and cannot.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 1));
      });
    });
    const r = await ensureWithEmptyCache({
      GOPROXY: `http://127.0.0.1:${closed}`,
      GOMODCACHE: mkdtempSync(join(scratch, 'modcache-')),
      GOSUMDB: 'off',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot reach the Go module proxy \\(GOPROXY=http://127\\.0\\.0\\.1:${closed}\\)`));
  });
});

describe('cluster bad input', () => {
  test('apiserver not ready in time: error carries the last 50 log lines; nothing is left running', async () => {
    const lines: string[] = [];
    const err = await startCluster({ readyTimeoutMs: 1, log: (l) => lines.push(l) }).then(
      () => assert.fail('expected startCluster to fail'),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, /kube-apiserver did not become ready within 0\.0s/);
    const m = /Last 50 lines of (\S+kube-apiserver\.log):\n([\s\S]*)$/.exec(err.message);
    assert.ok(m, err.message);
    const tail = (m[2] ?? '').split('\n');
    assert.ok(tail.length >= 1 && tail.length <= 50, `${tail.length} lines`);
    const dir = dirname(m[1] ?? '');
    assert.equal(existsSync(dir), false, 'temp dir removed');
    assert.deepEqual(await waitUntilGone(dir), []);
  });

  describe('a taken port', () => {
    let blocker: Server;
    let blockedPort: number;
    before(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const a = blocker.address();
      blockedPort = typeof a === 'object' && a !== null ? a.port : 0;
    });
    after(() => blocker.close());

    test('is skipped: the apiserver comes up on another port', async () => {
      const lines: string[] = [];
      const cluster = await startCluster({ apiserverPort: blockedPort, log: (l) => lines.push(l) });
      try {
        assert.notEqual(cluster.port, blockedPort);
        assert.ok(lines.some((l) => l.includes(`kube-apiserver port ${blockedPort} is taken; retrying on another port`)), lines.join('\n'));
        const r = await cluster.kubectl(['get', 'namespace', 'default', '-o', 'name']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), 'namespace/default');
      } finally {
        await cluster.stop();
      }
      assert.deepEqual(await waitUntilGone(cluster.dir), []);
    });
  });
});

describe('teardown when the test process dies', () => {
  // A child process starts a cluster, prints its dir, then is killed.
  const script = `
    import { startCluster } from ${JSON.stringify(join(HERE, 'cluster.ts'))};
    const cluster = await startCluster({ log: () => {} });
    process.stdout.write(cluster.dir + '\\n');
    setInterval(() => {}, 1000);
  `;

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    test(`${signal}: etcd and kube-apiserver exit too`, async () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const dir = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          if (out.includes('\n')) resolve(out.trim());
        });
        child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      assert.ok(processesMentioning(dir).length >= 2, 'etcd and kube-apiserver running');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
      assert.deepEqual(await waitUntilGone(dir), [], `processes left after ${signal}`);
      if (signal !== 'SIGKILL') assert.equal(existsSync(dir), false, 'temp dir removed');
      else rmSync(dir, { recursive: true, force: true });
    });
  }
});
