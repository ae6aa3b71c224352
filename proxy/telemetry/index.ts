/**
 * Entry point of the proxy's telemetry for the proxy core:
 *  - `proxyTelemetry.apply(snapshot)` when a snapshot is swapped in, before composing routes;
 *  - `telemetryFeature(proxyTelemetry)` first in the feature list;
 *  - `startStatsServer(proxyTelemetry.metrics, { host, port: 15090, appMetrics: appMetricsFromEnv() })` at start-up
 *    (or `statsText(proxyTelemetry.metrics, { appMetrics })` as the body of its own 15090 server);
 *  - `proxyTelemetry.tcpConnection(socket, cluster, endpoints)` for each proxied TCP connection;
 *  - `proxyTelemetry.flush()` on graceful exit.
 * One instance per proxy process (tests build their own with `new ProxyTelemetry()`).
 */
import { ProxyTelemetry } from './telemetry.ts';

export { ProxyTelemetry } from './telemetry.ts';
export { telemetryFeature } from './feature.ts';
export { startStatsServer, statsHandler, statsText, STATS_PATH } from './metrics-server.ts';
export { appMetricsFromEnv } from './merged-metrics.ts';

/** The process-wide instance the proxy core uses. */
export const proxyTelemetry = new ProxyTelemetry();
