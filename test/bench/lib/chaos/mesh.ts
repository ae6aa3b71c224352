/**
 * The chaos mesh: `meshlet operator --local` and two `meshlet proxy` sidecars as separate
 * processes (client → server over STRICT mTLS, certificates from the operator's CA), a DENY
 * policy on `/deny`, an ALLOW policy (GET from the client's identity only), and an app that
 * prints every request it receives. Everything on loopback addresses the caller picks.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fdCount, rss, start, until, type Proc } from './procs.ts';

const BIN = fileURLToPath(new URL('../../../../bin/meshlet', import.meta.url));
const APP = fileURLToPath(new URL('app.ts', import.meta.url));
export const APP_PORT = 9080;
const INBOUND_PORT = 15006;
export const SERVICE = `server:${APP_PORT}`;

export const GOOD_POLICY = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-path, namespace: default}
spec:
  selector:
    matchLabels: {app: server}
  action: DENY
  rules:
  - to:
    - operation:
        paths: [/deny]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-client-get, namespace: default}
spec:
  selector:
    matchLabels: {app: server}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: [cluster.local/ns/default/sa/client]
    to:
    - operation:
        methods: [GET]
`;

/**
 * \`meshlet operator --local\` (unlike \`meshlet local\`) builds cluster-style endpoints
 * (address:targetPort), so the server's WorkloadEntry names its sidecar's inbound port as
 * its target port: clients then reach the sidecar, and the sidecar forwards to that port on
 * --app-host, where the app listens on an address of its own.
 */
const workloads = (client: string, server: string): string => `apiVersion: v1
kind: Service
metadata: {name: server, namespace: default}
spec:
  selector: {app: server}
  ports: [{name: http, port: ${APP_PORT}}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: server-1, namespace: default}
spec: {address: ${server}, ports: {http: ${INBOUND_PORT}}, labels: {app: server}, serviceAccount: server}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client-1, namespace: default}
spec: {address: ${client}, labels: {app: client}, serviceAccount: client}
`;

export interface MeshOptions {
  /** The operator's address: 127.0.0.1, the only address its push certificate names. */
  operator: string;
  client: string;
  server: string;
  /** Where the app listens (port 15006, see above). */
  app: string;
  /** --workload-cert-ttl, e.g. `1m`. */
  certTtl: string;
  /** Extra flags for both proxies (e.g. a short --headers-timeout-ms in tests). */
  proxyArgs?: string[];
}

export interface ChaosMesh {
  opts: MeshOptions;
  dir: string;
  mesh: string;
  policyFile: string;
  op: Proc;
  client: Proc;
  server: Proc;
  app: Proc;
  /** Outbound listener of the client sidecar (plaintext HTTP/1.1 and h2c). */
  outbound: { host: string; port: number };
  /** STRICT inbound listener of the server sidecar. */
  inbound: { host: string; port: number };
  /** Requests the app received that policy should have refused: `/deny` or a POST. */
  leaked(): number;
  /** Every request line the app printed. */
  appRequests(): number;
  startOperator(): Promise<void>;
  metrics(): Promise<string>;
  proxies(): { name: string; proc: Proc }[];
  stop(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  const s = createServer().listen(0, host);
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

async function httpOk(url: string, body?: (b: string) => boolean): Promise<boolean> {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const text = await r.text();
  return r.status === 200 && (body === undefined || body(text));
}

export async function startMesh(opts: MeshOptions): Promise<ChaosMesh> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-chaos-'));
  const mesh = join(dir, 'mesh');
  const tokens = join(mesh, '.meshlet', 'tokens', 'default');
  mkdirSync(tokens, { recursive: true });
  writeFileSync(join(mesh, 'workloads.yaml'), workloads(opts.client, opts.server));
  const policyFile = join(mesh, 'security.yaml');
  writeFileSync(policyFile, GOOD_POLICY);
  for (const sa of ['client', 'server']) writeFileSync(join(tokens, `${sa}.token`), `chaos-token-${sa}-${process.pid}-0123456789`, { mode: 0o600 });
  const pushPort = await freePort(opts.operator);
  const rootFile = join(dir, 'root.pem');
  const procs: Proc[] = [];
  const m: ChaosMesh = {
    opts, dir, mesh, policyFile,
    op: undefined as unknown as Proc, client: undefined as unknown as Proc, server: undefined as unknown as Proc, app: undefined as unknown as Proc,
    outbound: { host: opts.client, port: 15001 },
    inbound: { host: opts.server, port: INBOUND_PORT },
    leaked: () => (m.app.output().match(/^(GET \/deny\S*|POST \S+)$/gm) ?? []).length,
    appRequests: () => (m.app.output().match(/^[A-Z]+ \//gm) ?? []).length,
    startOperator: async () => {
      const op = start(process.execPath, [BIN, 'operator', '--local', mesh, '--address', opts.operator, '--push-port', String(pushPort), '--monitor-port', '0',
        '--ca-file', rootFile, '--workload-cert-ttl', opts.certTtl, '--log-level', 'info']);
      procs.push(op);
      m.op = op;
      const up = await until(() => /"monitorPort":\d+/.test(op.output()) || !op.alive(), 30_000);
      if (!up || !op.alive()) throw new Error(`operator did not start:\n${op.output().slice(-3000)}`);
    },
    metrics: async () => {
      const port = /"monitorPort":(\d+)/.exec(m.op.output())?.[1];
      return (await fetch(`http://${opts.operator}:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    },
    proxies: () => [{ name: 'client', proc: m.client }, { name: 'server', proc: m.server }],
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await m.startOperator();
    const proxy = (name: string, addr: string): Proc => {
      const p = start(process.execPath, [BIN, 'proxy', '--operator', `https://${opts.operator}:${pushPort}`, '--ca-file', rootFile, '--token-file', join(tokens, `${name}.token`),
        '--pod', `${name}-1`, '--namespace', 'default', '--service-account', name, '--labels', `app=${name}`, '--pod-ip', addr,
        '--bind', addr, '--admin-address', addr, '--outbound-port', '15001', '--inbound-port', '15006', '--admin-port', '15000', '--ready-port', '15021', '--stats-port', '15090',
        '--app-host', opts.app, '--inbound-source', '127.0.0.6', '--backoff-base-ms', '200', '--backoff-max-ms', '2000', '--log-level', 'warn', ...(opts.proxyArgs ?? [])]);
      procs.push(p);
      return p;
    };
    m.server = proxy('server', opts.server);
    m.client = proxy('client', opts.client);
    m.app = start(process.execPath, [APP, opts.app, String(INBOUND_PORT)]);
    procs.push(m.app);
    for (const [name, addr] of [['server', opts.server], ['client', opts.client]] as const) {
      // Ready = config applied and a workload certificate in hand (else STRICT refuses the first requests).
      const ready = await until(async () => (await httpOk(`http://${addr}:15021/healthz/ready`)) && (await httpOk(`http://${addr}:15000/certs`, (b) => b.includes(`/sa/${name}`))), 30_000);
      if (!ready) throw new Error(`${name} proxy not ready:\n${m.proxies().find((p) => p.name === name)?.proc.output().slice(-3000)}`);
    }
    if (!(await until(() => m.app.output().includes('ready'), 10_000))) throw new Error(`app did not start: ${m.app.output()}`);
    return m;
  } catch (err) {
    await m.stop();
    throw err;
  }
}

export interface ProcFigures {
  rss_mb: number;
  fds: number;
}

/** RSS and descriptors of each proxy now. */
export function procFigures(m: ChaosMesh): Record<string, ProcFigures> {
  const out: Record<string, ProcFigures> = {};
  for (const { name, proc } of m.proxies()) out[name] = { rss_mb: rss(proc.pid), fds: fdCount(proc.pid) };
  return out;
}
