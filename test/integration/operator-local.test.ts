// `meshlet operator --local <dir>` as a real child process: the mesh CA kept in <dir>/.meshlet/ca,
// certificates for token files over 15012, token/cert authentication of /v1/config, mesh.yaml
// telemetry in the snapshot, /ui and the citadel counters on 15014.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOperatorProcess, type OperatorProcess } from '../operator/helpers/operator-process.ts';
import { call, certsOf, newCsr, sample, uriSansOf } from './operator-helpers.ts';

let dir = '';
let op: OperatorProcess | undefined;
const PP_TOKEN = 'token-of-productpage-0123456789';
const OTHER_TOKEN = 'token-of-intruder-9876543210';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-local-'));
  const mesh = join(dir, 'mesh');
  cpSync('test/fixtures/local/basic', mesh, { recursive: true });
  mkdirSync(join(mesh, '.meshlet', 'tokens', 'default'), { recursive: true });
  mkdirSync(join(mesh, '.meshlet', 'tokens', 'other'), { recursive: true });
  writeFileSync(join(mesh, '.meshlet', 'tokens', 'default', 'productpage.token'), `${PP_TOKEN}\n`);
  writeFileSync(join(mesh, '.meshlet', 'tokens', 'other', 'intruder.token'), OTHER_TOKEN);
  writeFileSync(join(dir, 'mesh.yaml'), 'trustDomain: cluster.local\naccessLog:\n  enabled: true\ntracing:\n  endpoint: ""\n  samplingPercent: 10\n');
  op = await startOperatorProcess(['--local', mesh, '--hold', '2000', '--mesh-config', join(dir, 'mesh.yaml'), '--workload-cert-ttl', '2h', '--log-level', 'info'], join(dir, 'root.pem'));
});

after(async () => {
  await op?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const o = (): OperatorProcess => {
  assert.ok(op !== undefined);
  return op;
};

test('the CA is created in <dir>/.meshlet/ca and the push server is served with a cert from that root', async () => {
  assert.ok(existsSync(join(dir, 'mesh', '.meshlet', 'ca', 'meshlet-ca', 'root-cert.pem')), 'CA material written under .meshlet/ca');
  const roots = certsOf(o().caPem);
  assert.equal(roots.length, 1);
  assert.equal(roots[0]?.ca, true, '--ca-file holds the mesh root');
  // Trusting only the root (no system CAs) works: the serving cert chains to it.
  const r = await call(`${o().pushUrl}/v1/config?proxy=productpage-1.default`, o().caPem);
  assert.equal(r.status, 401, 'no token: unauthenticated');
  assert.equal(r.headers['x-meshlet-error'], 'MESHLET_SECURITY_UNAUTHENTICATED');
});

test('a token file gets a certificate with its SPIFFE ID; an unknown token gets 401', async () => {
  const { csrPem } = await newCsr();
  const r = await call(`${o().pushUrl}/v1/certificates`, o().caPem, { method: 'POST', token: PP_TOKEN, body: { csr: csrPem } });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { certChain: string; rootCert: string; identity: string };
  assert.equal(body.identity, 'spiffe://cluster.local/ns/default/sa/productpage');
  assert.deepEqual(uriSansOf(body.certChain), ['spiffe://cluster.local/ns/default/sa/productpage']);
  const lifetime = Date.parse(certsOf(body.certChain)[0]?.validTo ?? '') - Date.parse(certsOf(body.certChain)[0]?.validFrom ?? '');
  assert.ok(lifetime <= 2 * 3600_000 + 10 * 60_000 && lifetime > 3600_000, `--workload-cert-ttl 2h caps the lifetime, got ${lifetime} ms`);
  const leaf = certsOf(body.certChain)[0];
  const root = certsOf(o().caPem)[0];
  assert.ok(leaf !== undefined && root !== undefined);
  assert.ok(leaf.checkIssued(root) || certsOf(body.certChain).some((c) => c.checkIssued(root)), 'chain ends at the published root');
  const bad = await call(`${o().pushUrl}/v1/certificates`, o().caPem, { method: 'POST', token: 'not-a-token', body: { csr: csrPem } });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers['x-meshlet-error'], 'MESHLET_SECURITY_UNAUTHENTICATED');
  const junk = await call(`${o().pushUrl}/v1/certificates`, o().caPem, { method: 'POST', token: PP_TOKEN, body: { csr: 'not a csr' } });
  assert.equal(junk.status, 400);
});

test('config: the own token reads its snapshot (with mesh.yaml telemetry); another namespace gets 403; the workload cert works too', async () => {
  const url = `${o().pushUrl}/v1/config?proxy=productpage-1.default`;
  const mine = await call(url, o().caPem, { token: PP_TOKEN });
  assert.equal(mine.status, 200, mine.text);
  const snap = JSON.parse(mine.text) as { proxy: { serviceAccount?: string }; telemetry: { accessLog: boolean; tracing: { samplingPercent: number } } };
  assert.equal(snap.telemetry.accessLog, true, 'accessLog.enabled from mesh.yaml');
  assert.equal(snap.telemetry.tracing.samplingPercent, 10, 'tracing.samplingPercent from mesh.yaml');
  const other = await call(url, o().caPem, { token: OTHER_TOKEN });
  assert.equal(other.status, 403, other.text);
  assert.equal(other.headers['x-meshlet-error'], 'MESHLET_SECURITY_FORBIDDEN');
  // A proxy holding a workload cert for productpage authenticates with it instead of a token.
  const { csrPem, keyPem } = await newCsr();
  const issued = JSON.parse((await call(`${o().pushUrl}/v1/certificates`, o().caPem, { method: 'POST', token: PP_TOKEN, body: { csr: csrPem } })).text) as { certChain: string };
  const byCert = await call(url, o().caPem, { client: { certPem: issued.certChain, keyPem } });
  assert.equal(byCert.status, 200, byCert.text);
  const intruderCert = await call(`${o().pushUrl}/v1/config?proxy=reviews-v1.default`, o().caPem, { client: { certPem: issued.certChain, keyPem } });
  assert.equal(intruderCert.status, 403, 'productpage cert cannot read reviews config');
});

test('/ui answers on the monitoring port and /metrics counts certificates and pushes', async () => {
  const ui = await fetch(`${o().monitorUrl}/ui`);
  assert.equal(ui.status, 200);
  assert.match(ui.headers.get('content-type') ?? '', /html/);
  assert.match(await ui.text(), /<html/i);
  const m = await (await fetch(`${o().monitorUrl}/metrics`)).text();
  assert.ok((sample(m, 'citadel_server_csr_count') ?? 0) >= 4, m.split('\n').filter((l) => l.startsWith('citadel')).join('\n'));
  assert.ok((sample(m, 'citadel_server_success_cert_issuance_count') ?? 0) >= 2);
  assert.ok((sample(m, 'citadel_server_authentication_failure_count') ?? 0) >= 1);
  assert.ok((sample(m, 'citadel_server_csr_sign_err_count') ?? 0) >= 1);
  assert.ok((sample(m, 'pilot_xds_pushes', '{type="snapshot"}') ?? 0) >= 2);
});

test('--help lists the composed ports and flags', async () => {
  const { spawnSync } = await import('node:child_process');
  const help = spawnSync(process.execPath, ['bin/meshlet', 'operator', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const f of ['--webhook-port', '--prometheus-url', '--ca-dir', '--token-dir', '--mesh-config', '--workload-cert-ttl', '--webhook <bool>', ':15017']) assert.ok(help.stdout.includes(f), f);
});
