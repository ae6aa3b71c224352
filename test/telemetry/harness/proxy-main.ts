/**
 * A real sidecar process for telemetry tests: the proxy core's `startProxy` with the
 * telemetry wiring the proxy command still lacks (apply telemetry on each snapshot, serve
 * the registry on the stats port). Prints one JSON line `{"ready":true}` on stdout when
 * listening; SIGTERM flushes spans and the access log, then exits.
 * argv[2]: JSON `{ bind, snapshotFile, appHost, statsPort, ports? }`.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../../../common/log.ts';
import { startProxy } from '../../../proxy/server.ts';
import { proxyTelemetry, startStatsServer } from '../../../proxy/telemetry/index.ts';

const o = JSON.parse(process.argv[2]!) as { bind: string; snapshotFile: string; appHost: string; statsPort: number; ports?: Record<string, number> };
const log = createLogger({ component: 'proxy', level: 'warn', destination: process.stderr });
const proxy = await startProxy({
  bind: o.bind,
  adminAddress: o.bind,
  ports: { outbound: 15001, inbound: 15006, admin: 15000, ready: 15021, stats: 0, ...o.ports },
  appHost: o.appHost,
  inboundSource: '127.0.0.6',
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 60_000,
  sniffTimeoutMs: 100,
  firstByteTimeoutMs: 10_000,
  random: Math.random,
  log,
});
proxy.store.onApplied(() => proxyTelemetry.apply(proxy.state.current!.snapshot));
const r = proxy.store.apply(readFileSync(o.snapshotFile, 'utf8'));
if (!r.ok) {
  process.stderr.write(`snapshot rejected: ${r.code} ${r.error}\n`);
  process.exit(2);
}
const stats = await startStatsServer(proxyTelemetry.metrics, { host: o.bind, port: o.statsPort });
process.on('SIGHUP', () => {
  const again = proxy.store.apply(readFileSync(o.snapshotFile, 'utf8'));
  process.stderr.write(`reloaded: ${JSON.stringify(again)}\n`);
});
process.once('SIGTERM', () => {
  void (async () => {
    await proxyTelemetry.flush();
    await proxy.close(500);
    await stats.close();
    await proxyTelemetry.close();
    process.exit(0);
  })();
});
process.stdout.write(`${JSON.stringify({ ready: true, ports: proxy.ports, stats: stats.port })}\n`);
