/**
 * Entry point of the proxy's telemetry for the proxy core:
 *  - `proxyTelemetry.apply(snapshot)` when a snapshot is swapped in, before composing routes;
 *  - `telemetryFeature(proxyTelemetry)` first in the feature list;
 *  - `statsHandler(proxyTelemetry.metrics, { appMetrics: appMetricsFromEnv() })` serves 15090 (streaming;
 *    `startStatsServer` wraps it in a server of its own for tests and benchmarks);
 *  - `proxyTelemetry.tcpConnection(socket, cluster, endpoints)` for each proxied TCP connection;
 *  - `proxyTelemetry.flush()` on graceful exit.
 * One instance per proxy process (tests build their own with `new ProxyTelemetry()`).
 */
import { ProxyTelemetry } from './telemetry.ts';

export { ProxyTelemetry } from './telemetry.ts';
export { telemetryFeature } from './feature.ts';
export { startStatsServer, statsHandler, STATS_PATH } from './metrics-server.ts';
export { appMetricsFromEnv } from './merged-metrics.ts';

/** The process-wide instance the proxy core uses. */
export const proxyTelemetry = new ProxyTelemetry();
