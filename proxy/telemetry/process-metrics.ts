/**
 * The sidecar's own CPU and memory on 15090, under prom-client's default-metric names (so
 * dashboards written for Node processes work), read at scrape time. Written here instead of
 * prom-client's collectDefaultMetrics, whose module set (event-loop and GC observers, the
 * OpenTelemetry API for exemplars) costs a proxy ~13 MB of RSS.
 */
import { readdirSync } from 'node:fs';
import { Counter, Gauge, type Registry } from './prom-lite.ts';

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  // Each counter advances by the CPU time used since its own last collection.
  const cpuCounter = (name: string, help: string, pick: (u: NodeJS.CpuUsage) => number): void => {
    let last = pick(process.cpuUsage());
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = pick(process.cpuUsage());
        this.inc((now - last) / 1e6);
        last = now;
      },
    });
  };
  cpuCounter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', (u) => u.user);
  cpuCounter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', (u) => u.system);
  cpuCounter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (u) => u.user + u.system);
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers }).set(Math.round(Date.now() / 1000 - process.uptime()));
  new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers, collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers,
    collect() {
      try {
        this.set(readdirSync('/proc/self/fd').length - 1); // minus the one reading the directory
      } catch {
        // not Linux: leave it unset
      }
    },
  });
  const memGauge = (name: string, help: string, pick: (m: NodeJS.MemoryUsage) => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(pick(process.memoryUsage())); } });
  };
  memGauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', (m) => m.heapTotal);
  memGauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', (m) => m.heapUsed);
  memGauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', (m) => m.external);
}
