/**
 * Interception in network namespaces the test creates (DESIGN.md §6): iptables nat REDIRECT
 * sends an app's connections to the proxy on 15001; the proxy recovers the original
 * destination with SO_ORIGINAL_DST and routes by it — two service addresses on the same
 * port reach different clusters, a TCP service is piped, and an unknown destination
 * passes through (ALLOW_ANY). The proxy runs as uid 1337, which the rules exempt.
 * Skipped only when not root or when ip/iptables/setpriv are missing (the reason is printed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const POD = '198.18.40.1';
const PEER = '198.18.40.2';

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and nat rules';
  for (const b of ['/usr/sbin/ip', '/usr/sbin/iptables', '/usr/bin/setpriv']) if (!existsSync(b)) return `${b} missing (apt-get install -y iproute2 iptables util-linux)`;
  return null;
}

const sh = (...args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const PEER_SERVERS = `
const http = require('node:http'), net = require('node:net');
http.createServer((req, res) => res.end(JSON.stringify({ via: req.headers['x-via'] ?? null, url: req.url, host: req.headers.host }))).listen(8080, '${PEER}');
http.createServer((req, res) => res.end('passthrough:' + req.headers.host)).listen(7777, '${PEER}');
http.createServer((req, res) => res.end('original-dst:' + req.headers['x-via'])).listen(7778, '${PEER}');
const tls = require('node:tls'), fs = require('node:fs');
const cred = { cert: fs.readFileSync(process.argv[1] + '/cert.pem'), key: fs.readFileSync(process.argv[1] + '/key.pem') };
tls.createServer(cred, (s) => s.end('tls-a')).listen(8443, '${PEER}');
tls.createServer(cred, (s) => s.end('tls-b')).listen(9443, '${PEER}');
net.createServer((s) => s.on('data', (d) => s.write('tcp-echo:' + d))).listen(9000, '${PEER}', () => console.log('ready'));
`;

const APP = `
const http = require('node:http'), net = require('node:net');
const get = (host, port, hostHeader) => new Promise((resolve) => {
  http.get({ host, port, path: '/hello', headers: { host: hostHeader } }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve({ status: res.statusCode, body: b, flags: res.headers['x-meshlet-flags'] ?? null })); }).on('error', (e) => resolve({ error: e.message }));
});
const sni = (servername) => new Promise((resolve) => { let b = ''; const s = require('node:tls').connect({ host: '198.19.10.13', port: 443, servername, rejectUnauthorized: false }); s.on('data', (d) => (b += d)); s.on('end', () => resolve(b)); s.on('error', (e) => resolve('error:' + e.message)); });
const tcp = (host, port) => new Promise((resolve) => { const s = net.connect(port, host, () => s.write('ping')); s.on('data', (d) => { resolve(d.toString()); s.destroy(); }); s.on('error', (e) => resolve('error:' + e.message)); });
const t = (p) => Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
// Opens a TCP connection and keeps it: resolves with the first echo, or 'closed' when the proxy
// hangs up (a FIN or, when our bytes were already in flight, a reset: both are a refusal).
const hold = (host, port) => new Promise((resolve) => { const s = net.connect(port, host, () => s.write('ping')); s.once('data', (d) => resolve({ s, got: d.toString() })); s.on('error', () => resolve({ s, got: 'closed' })); s.on('close', () => resolve({ s, got: 'closed' })); });
const limited = async () => {
  const a = await hold('198.19.10.15', 9000);
  const b = await hold('198.19.10.15', 9000);
  a.s.destroy();
  // The proxy frees the slot when it sees the close: try again a bounded number of times.
  let c = { got: 'closed' };
  for (let i = 0; i < 40 && c.got === 'closed'; i++) { await new Promise((r) => setTimeout(r, 50)); c = await hold('198.19.10.15', 9000); }
  c.s?.destroy(); b.s.destroy();
  return [a.got, b.got, c.got];
};
(async () => {
  const out = {
    reviews: await t(get('198.19.10.10', 9080, 'reviews:9080')),
    ratings: await t(get('198.19.10.11', 9080, 'reviews:9080')),
    tcp: await t(tcp('198.19.10.12', 9000)),
    passthrough: await t(get('${PEER}', 7777, 'outside:7777')),
    sniA: await t(sni('a.example')),
    sniB: await t(sni('b.example')),
    autoHttp: await t(get('198.19.10.14', 8000, 'auto:8000')),
    autoTcp: await t(tcp('198.19.10.14', 8000)),
    lbPassthrough: await t(get('${PEER}', 7778, 'anything:7778')),
    tcpLimit: await t(limited()),
  };
  console.log(JSON.stringify(out));
})();
`;

const skip = skipReason();

describe('proxy interception in a network namespace', { skip: skip ?? false }, () => {
  const id = randomBytes(3).toString('hex');
  const pod = `mlpx-${id}-pod`;
  const peer = `mlpx-${id}-peer`;
  const children: ChildProcess[] = [];
  let dir = '';

  const spawnIn = (ns: string, argv: string[]): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    return c;
  };
  const waitLine = (c: ChildProcess, needle: string): Promise<string> =>
    new Promise((resolve, reject) => {
      let buf = '';
      let err = '';
      const t = setTimeout(() => reject(new Error(`no "${needle}" in 20 s: ${buf} ${err}`)), 20_000);
      c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      c.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes(needle)) {
          clearTimeout(t);
          resolve(buf);
        }
      });
      c.once('exit', (code) => reject(new Error(`exited ${code}: ${buf} ${err}`)));
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshlet-netns-'));
    chmodSync(dir, 0o755);
    const vp = `mxp${id}`;
    const vq = `mxq${id}`;
    sh('ip', 'netns', 'add', pod);
    sh('ip', 'netns', 'add', peer);
    sh('ip', 'link', 'add', vp, 'netns', pod, 'type', 'veth', 'peer', 'name', vq, 'netns', peer);
    for (const [ns, dev, a] of [[pod, vp, POD], [peer, vq, PEER]] as const) {
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      sh('ip', '-n', ns, 'addr', 'add', `${a}/24`, 'dev', dev);
      sh('ip', '-n', ns, 'link', 'set', dev, 'up');
    }
    sh('ip', '-n', pod, 'route', 'add', 'default', 'via', PEER);
    // Istio-style capture: the proxy's own uid and loopback are exempt, everything else goes to 15001.
    const nat = (...r: string[]) => sh('ip', 'netns', 'exec', pod, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', ...r);
    nat('-m', 'owner', '--uid-owner', '1337', '-j', 'RETURN');
    nat('-d', '127.0.0.0/8', '-j', 'RETURN');
    nat('-j', 'REDIRECT', '--to-ports', '15001');

    const pems = await generate([{ name: 'commonName', value: 'peer.test' }], { keySize: 2048 } as never);
    writeFileSync(join(dir, 'cert.pem'), pems.cert);
    writeFileSync(join(dir, 'key.pem'), pems.private);
    await waitLine(spawnIn(peer, [process.execPath, '-e', PEER_SERVERS, dir]), 'ready');
    const R = 'outbound|9080||reviews.default.svc.cluster.local';
    const T = 'outbound|9080||ratings.default.svc.cluster.local';
    const X = 'outbound|9000||tcp.default.svc.cluster.local';
    const TA = 'outbound|443||a.example';
    const TB = 'outbound|443||b.example';
    const PT = 'outbound|7778||original.example';
    const XL = 'outbound|9000||tcp-limited.default.svc.cluster.local';
    const limitedCluster = cluster(XL, [{ address: PEER, port: 9000 }], { protocol: 'tcp' });
    limitedCluster.cluster.connectionPool.maxConnections = 1;
    const ep = [{ address: PEER, port: 8080 }];
    const snap = snapshot('netns-1', {
      listeners: [
        listener(9080, { address: '198.19.10.10', routeTable: 'reviews' }),
        listener(9080, { address: '198.19.10.11', routeTable: 'ratings' }),
        listener(9000, { address: '198.19.10.12', protocol: 'tcp', tcpRoutes: [{ destinations: [{ cluster: X, weight: 1 }], provenance: { kind: 'Service', namespace: 'default', name: 'tcp' } }] }),
        listener(9000, { address: '198.19.10.15', protocol: 'tcp', tcpRoutes: [{ destinations: [{ cluster: XL, weight: 1 }], provenance: { kind: 'Service', namespace: 'default', name: 'tcp-limited' } }] }),
        listener(443, {
          address: '198.19.10.13',
          protocol: 'tls',
          tcpRoutes: [
            { sniHosts: ['a.example'], destinations: [{ cluster: TA, weight: 1 }], provenance: { kind: 'VirtualService', namespace: 'default', name: 'tls' } },
            { sniHosts: ['*.example'], destinations: [{ cluster: TB, weight: 1 }], provenance: { kind: 'VirtualService', namespace: 'default', name: 'tls' } },
          ],
        }),
        // An undeclared port: HTTP is routed by the table, anything else goes to the TCP route.
        // A route whose cluster balances PASSTHROUGH (no endpoints): the original destination is used.
        listener(7778, { address: PEER, routeTable: 'pt' }),
        listener(8000, { address: '198.19.10.14', protocol: 'auto', routeTable: 'auto', tcpRoutes: [{ destinations: [{ cluster: X, weight: 1 }], provenance: { kind: 'Service', namespace: 'default', name: 'auto' } }] }),
      ],
      tables: [
        table('reviews', [{ domains: ['*'], routes: [route('reviews', [], forward(R), { headers: { request: { set: { 'x-via': 'reviews' } } } })] }]),
        table('ratings', [{ domains: ['*'], routes: [route('ratings', [], forward(T), { headers: { request: { set: { 'x-via': 'ratings' } } } })] }]),
        table('pt', [{ domains: ['*'], routes: [route('pt', [], forward(PT), { headers: { request: { set: { 'x-via': 'passthrough-lb' } } } })] }]),
        table('auto', [{ domains: ['*'], routes: [route('auto', [], forward(R), { headers: { request: { set: { 'x-via': 'auto-http' } } } })] }]),
      ],
      clusters: [cluster(R, ep), cluster(T, ep), cluster(X, [{ address: PEER, port: 9000 }], { protocol: 'tcp' }), cluster(TA, [{ address: PEER, port: 8443 }], { protocol: 'tls' }), cluster(TB, [{ address: PEER, port: 9443 }], { protocol: 'tls' }), cluster(PT, [], { lb: { policy: 'PASSTHROUGH' } }), limitedCluster],
    });
    const file = join(dir, 'snapshot.json');
    writeFileSync(file, JSON.stringify(snap));
    chmodSync(file, 0o644);
    const proxy = spawnIn(pod, ['setpriv', '--reuid', '1337', '--regid', '1337', '--clear-groups', process.execPath, BIN, 'proxy', '--config-file', file, '--stats-port', '15090']);
    await waitLine(proxy, 'proxy listening');
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [pod, peer]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  let out: Record<string, { status: number; body: string; flags: string | null } | string> = {};

  it('routes by the original destination an app dialled, unaware of the proxy', async () => {
    const app = spawnIn(pod, [process.execPath, '-e', APP]);
    out = JSON.parse((await waitLine(app, '\n')).trim()) as typeof out;
    const reviews = out.reviews as { status: number; body: string };
    const ratings = out.ratings as { status: number; body: string };
    assert.equal(reviews.status, 200, JSON.stringify(out));
    assert.deepEqual(JSON.parse(reviews.body), { via: 'reviews', url: '/hello', host: 'reviews:9080' });
    // Same Host and port, different service address: only SO_ORIGINAL_DST can tell them apart.
    assert.equal(JSON.parse(ratings.body).via, 'ratings');
    assert.equal(out.tcp, 'tcp-echo:ping');
    assert.equal((out.passthrough as { body: string }).body, 'passthrough:outside:7777');
  });

  it('routes TLS by SNI without terminating it, and sniffs an undeclared port', () => {
    assert.equal(out.sniA, 'tls-a');
    assert.equal(out.sniB, 'tls-b', '*.example matches b.example');
    assert.equal(JSON.parse((out.autoHttp as { body: string }).body).via, 'auto-http');
    assert.equal(out.autoTcp, 'tcp-echo:ping');
  });

  it('closes a TCP connection over tcp.maxConnections at once, and admits one when a slot frees', () => {
    assert.deepEqual(out.tcpLimit, ['tcp-echo:ping', 'closed', 'tcp-echo:ping'], JSON.stringify(out.tcpLimit));
  });

  it('sends PASSTHROUGH-balanced HTTP to the original destination, through the route chain', () => {
    assert.equal((out.lbPassthrough as { body: string }).body, 'original-dst:passthrough-lb', JSON.stringify(out.lbPassthrough));
  });
});

if (skip !== null) process.stderr.write(`interception test skipped: ${skip}\n`);
