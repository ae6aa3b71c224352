/**
 * `meshlet local <dir>`: the operator in-process on the directory, one `meshlet proxy`
 * child per meshed WorkloadEntry (bound to the entry's loopback address), then the
 * workloads' own commands with HTTP_PROXY pointing at their proxy. WorkloadEntries added,
 * removed or changed later start, stop or restart their processes. Everything stops on
 * `stop()` (SIGINT/SIGTERM in the command): apps, then proxies, then the operator.
 */
import { mkdtempSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../common/log.ts';
import { runOperator, type RunningOperator } from '../../operator/run.ts';
import { readDirectoryObjects } from '../../operator/sources/local-dir.ts';
import type { Child } from './children.ts';
import { humanLogLine } from './log-lines.ts';
import { parseDurationMs } from '../../operator/translate/duration.ts';

/** MESHLET_JWKS_REFRESH (a duration, at least 100ms), as `meshlet operator --jwks-refresh`. */
function jwksRefreshMs(): number | undefined {
  const t = process.env.MESHLET_JWKS_REFRESH;
  const ms = t === undefined || t === '' ? undefined : parseDurationMs(t);
  return ms !== undefined && ms >= 100 ? ms : undefined;
}
import { LOCAL_INBOUND_PORT, planLocal, type LocalPlan } from './plan.ts';
import { inNetnsRange, NETNS_GATEWAY, NetnsHost, serviceNames } from './netns.ts';
import { registerUi } from '../../operator/compose/ui.ts';
import { uiExtras } from '../graph/ui-extras.ts';
import { startLocalSecurity, type LocalSecurity } from './security.ts';
import { LocalUnits } from './units.ts';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));

export interface LocalOptions {
  dir: string;
  pushPort: number;
  monitorPort: number;
  /** Outbound (explicit proxy) port of every proxy, on its own address. */
  proxyPort: number;
  /** Inbound port of every proxy on its own address: meshed endpoints point here (default 15006). */
  inboundPort?: number;
  /** Start the workloads' commands (default true). */
  apps: boolean;
  out: NodeJS.WritableStream;
  color: boolean;
  logLevel: string;
  /** Seed for the proxies' random source (reproducible splits in tests). */
  seed?: number;
  graceMs: number;
  /** Each workload in its own network namespace with iptables capture (root). */
  netns?: boolean;
}

export interface RunningLocal {
  plan: LocalPlan;
  operator: RunningOperator;
  operatorUrl: string;
  children(): Child[];
  /** Resolves when every child has exited and the operator is stopped. */
  stop(): Promise<void>;
}

function lineWriter(prefix: string, out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') out.write(`${prefix}${humanLogLine(l)}\n`);
      cb();
    },
  });
}

export async function runLocal(o: LocalOptions): Promise<RunningLocal> {
  const dir = resolve(o.dir);
  const netns = o.netns === true;
  const planOf = (): LocalPlan => {
    const objects = readDirectoryObjects(dir).objects;
    return netns ? planLocal(objects, dir, inNetnsRange, `in 198.18.0.0/15 (--netns gives each workload its own namespace and address there; ${NETNS_GATEWAY} is the host)`) : planLocal(objects, dir);
  };
  const plan = planOf();
  const width = Math.max(14, ...plan.workloads.map((w) => w.name.length + 6));
  const say = (s: string): void => void o.out.write(`${'local'.padEnd(width)} | ${s}\n`);
  let reported = new Set(plan.problems);
  for (const p of plan.problems) say(`skipped: ${p}`);
  if (!netns) for (const w of plan.warnings) say(`warning: ${w}`);
  // Private state (mkdtemp: mode 0700): the mesh CA, per-workload token files, the operator's CA bundle.
  const tmp = mkdtempSync(join(tmpdir(), 'meshlet-local-'));
  const caFile = join(tmp, 'operator-ca.pem');
  const inboundPort = o.inboundPort ?? LOCAL_INBOUND_PORT;
  const log = createLogger({ component: 'operator', level: o.logLevel, destination: lineWriter(`${'operator'.padEnd(width)} | `, o.out) });
  let operator: RunningOperator;
  let security: LocalSecurity | undefined;
  const host = netns ? new NetnsHost(tmp) : undefined;
  // --netns: the operator listens on the bridge's gateway, which every namespace reaches.
  const address = netns ? NETNS_GATEWAY : '127.0.0.1';
  try {
    host?.open();
    security = await startLocalSecurity(tmp, log, netns ? [NETNS_GATEWAY] : []);
    const sec = security;
    operator = await runOperator({
      log, local: dir, address, pushPort: o.pushPort, monitorPort: o.monitorPort, caFile, holdMs: 30_000, noStatus: true,
      // As `meshlet operator`: how often jwksUri keys are fetched again.
      ...(jwksRefreshMs() === undefined ? {} : { jwksRefreshMs: jwksRefreshMs() as number }),
      // No capture locally: meshed endpoints are their sidecar's inbound listener (auto mTLS, policy there).
      // With --netns, capture is real: endpoints stay <address>:<targetPort>, as in a cluster.
      ...(netns ? {} : { localMode: { inboundPort } }),
      metrics: sec.metrics,
      tls: sec.ca.tls,
      authenticate: sec.ca.authenticate,
      extendPush: (app) => sec.ca.extendPush(app),
      extendMonitor: (app, core) => registerUi(app, core, undefined, uiExtras(process.env.MESHLET_TRACING_URL)),
    });
  } catch (err) {
    security?.stop();
    host?.close();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const sec = security;
  const operatorUrl = `http://${address}:${operator.monitorPort}`;
  say(`operator watching ${dir}: push https://${address}:${operator.pushPort}, debug ${operatorUrl}, service graph ${operatorUrl}/ui`);
  say(`mesh CA and workload tokens in ${tmp} (private; removed on exit)`);
  if (host !== undefined) say(`--netns: one network namespace per workload on bridge ${host.bridge} (${NETNS_GATEWAY}/15)`);
  const names = (): string[] => serviceNames(readDirectoryObjects(dir).objects.filter((x) => x.object.kind === 'Service').map((x) => ({ name: x.object.metadata.name, namespace: x.object.metadata.namespace ?? 'default' })));
  const units = new LocalUnits({
    bin: BIN, pushUrl: `https://${address}:${operator.pushPort}`, caFile, proxyPort: o.proxyPort, inboundPort, tokenFile: (ns, sa) => sec.tokenFile(ns, sa), apps: o.apps, logLevel: o.logLevel,
    ...(o.seed === undefined ? {} : { seed: o.seed }), color: o.color, width, out: o.out,
    // Apps run with the same Node as meshlet (first on PATH), whatever node the shell has.
    path: [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter), graceMs: o.graceMs, say,
    ...(host === undefined ? {} : { netns: { host, serviceNames: names } }),
  });
  const watching: { watcher?: FSWatcher } = {};
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();
  const stop = async (): Promise<void> => {
    watching.watcher?.close();
    clearTimeout(timer);
    await units.stop();
    await queue.catch(() => undefined);
    // Never let Ctrl-C hang on the operator (e.g. a long-poll still held): bounded wait.
    let t: NodeJS.Timeout | undefined;
    await Promise.race([operator.stop(), new Promise((r) => (t = setTimeout(r, 5000)))]);
    clearTimeout(t);
    sec.stop();
    host?.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await units.reconcile(plan.workloads, true);
  } catch (err) {
    await stop();
    throw err;
  }
  // Debounced like the operator's own reload; reconciles run one at a time.
  const watcher = watch(dir, { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      queue = queue.then(async () => {
        const next = planOf();
        for (const p of next.problems) if (!reported.has(p)) say(`skipped: ${p}`);
        reported = new Set(next.problems);
        await units.reconcile(next.workloads);
      }).catch((err: Error) => say(`could not apply the directory change: ${err.message}`));
    }, 300);
  });
  watcher.on('error', () => undefined);
  watching.watcher = watcher;
  return { plan, operator, operatorUrl, children: () => units.children(), stop };
}
