/**
 * A real sidecar process for telemetry tests: the proxy core's `startProxy` (the same code
 * `meshlet proxy` runs, stats served by the proxy's own 15090 server) on a snapshot file, at
 * loopback addresses the test picks. Prints one JSON line `{"ready":true}` on stdout when
 * listening; SIGTERM flushes spans and the access log, then exits.
 * argv[2]: JSON `{ bind, snapshotFile, appHost, statsPort, ports? }`.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../../../common/log.ts';
import { startProxy } from '../../../proxy/server.ts';
import { proxyTelemetry } from '../../../proxy/telemetry/index.ts';

const o = JSON.parse(process.argv[2]!) as { bind: string; snapshotFile: string; appHost: string; statsPort: number; ports?: Record<string, number> };
const log = createLogger({ component: 'proxy', level: 'warn', destination: process.stderr });
const proxy = await startProxy({
  bind: o.bind,
  adminAddress: o.bind,
  ports: { outbound: 15001, inbound: 15006, admin: 15000, ready: 15021, stats: o.statsPort, ...o.ports },
  appHost: o.appHost,
  inboundSource: '127.0.0.6',
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 60_000,
  sniffTimeoutMs: 100,
  firstByteTimeoutMs: 10_000,
  random: Math.random,
  log,
});
const r = proxy.store.apply(readFileSync(o.snapshotFile, 'utf8'));
if (!r.ok) {
  process.stderr.write(`snapshot rejected: ${r.code} ${r.error}\n`);
  process.exit(2);
}
process.on('SIGHUP', () => {
  const again = proxy.store.apply(readFileSync(o.snapshotFile, 'utf8'));
  process.stderr.write(`reloaded: ${JSON.stringify(again)}\n`);
});
process.once('SIGTERM', () => {
  void (async () => {
    await proxyTelemetry.flush();
    await proxy.close(500);
    await proxyTelemetry.close();
    process.exit(0);
  })();
});
process.stdout.write(`${JSON.stringify({ ready: true, ports: proxy.ports })}\n`);
