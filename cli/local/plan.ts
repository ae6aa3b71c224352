/**
 * What `meshlet local <dir>` runs, computed from the directory's objects (pure): one proxy
 * per meshed WorkloadEntry (it names a serviceAccount and is not annotated
 * `sidecar.meshlet.io/proxy: "false"`), and the workload's own command when the entry has
 * the annotation `local.meshlet.io/command` (run by the shell, cwd = the YAML file's folder).
 */
import { dirname, resolve } from 'node:path';
import type { Incoming } from '../../operator/store/store.ts';
import type { K8sObject } from '../../operator/world/objects.ts';
import { workloadFromWorkloadEntry } from '../../operator/world/workloads.ts';

export const COMMAND_ANNOTATION = 'local.meshlet.io/command';
/** Each local proxy's inbound listener on its own address; meshed endpoints point here. */
export const LOCAL_INBOUND_PORT = 15006;

export interface LocalWorkload {
  /** WorkloadEntry name: the proxy id is `<name>.<namespace>`. */
  name: string;
  namespace: string;
  address: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** Runs a meshlet proxy on `address`. */
  proxied: boolean;
  /** Shell command of the app, if the directory says how to run it. */
  command?: string;
  /** Folder of the YAML file that declared the entry (the command's cwd). */
  cwd: string;
  /** First port the app should listen on (WorkloadEntry ports, else the selecting Services' target ports). */
  port?: number;
}

function targetPorts(svc: K8sObject): number[] {
  const ports = ((svc.spec ?? {}) as { ports?: { port?: number; targetPort?: number | string }[] }).ports ?? [];
  return ports.map((p) => (typeof p.targetPort === 'number' ? p.targetPort : p.port)).filter((n): n is number => typeof n === 'number');
}

function selects(svc: K8sObject, ns: string, labels: Record<string, string>): boolean {
  const sel = ((svc.spec ?? {}) as { selector?: Record<string, string> }).selector;
  if (sel === undefined || Object.keys(sel).length === 0 || (svc.metadata.namespace ?? 'default') !== ns) return false;
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

export interface LocalPlan {
  workloads: LocalWorkload[];
  /** Entries that cannot run locally, with the reason (non-loopback address, duplicates). */
  problems: string[];
  /** Entries that run, but not fully as described (e.g. several app ports without capture). */
  warnings: string[];
}

/** Loopback mode: each entry on its own 127.x address. --netns: its own 198.18.0.0/15 address in its own namespace. */
export function planLocal(objects: readonly Incoming[], baseDir: string, addressOk: (ip: string) => boolean = (ip) => /^127\.\d+\.\d+\.\d+$/.test(ip), rangeText = 'a 127.x loopback address; local mode gives every workload its own loopback address'): LocalPlan {
  const services = objects.filter((o) => o.object.kind === 'Service').map((o) => o.object);
  const problems: string[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, string>();
  const workloads: LocalWorkload[] = [];
  for (const inc of objects.filter((o) => o.object.kind === 'WorkloadEntry')) {
    const w = workloadFromWorkloadEntry(inc.object);
    const where = `${inc.origin?.file ?? '<unknown>'}:${inc.origin?.line ?? 0}`;
    const id = `WorkloadEntry ${w.namespace}/${w.name}`;
    if (!addressOk(w.ip)) {
      problems.push(`${where}: ${id}: address "${w.ip}" is not ${rangeText}`);
      continue;
    }
    const other = seen.get(w.ip);
    if (other !== undefined) {
      problems.push(`${where}: ${id}: address ${w.ip} is already used by ${other}`);
      continue;
    }
    seen.set(w.ip, id);
    const appPorts = [...new Set(services.filter((s) => selects(s, w.namespace, w.labels)).flatMap(targetPorts))];
    const port = Object.values(w.namedPorts)[0] ?? appPorts[0];
    // Without capture, a sidecar's single inbound port cannot tell which app port a peer meant.
    if (w.hasSidecar && appPorts.length > 1) warnings.push(`${where}: ${id}: Services select it on ${appPorts.length} app ports (${appPorts.join(', ')}); without --netns its sidecar inbound serves only one of them`);
    const command = inc.object.metadata.annotations?.[COMMAND_ANNOTATION];
    const lw: LocalWorkload = { name: w.name, namespace: w.namespace, address: w.ip, serviceAccount: w.serviceAccount, labels: w.labels, proxied: w.hasSidecar, cwd: inc.origin?.file === undefined ? baseDir : resolve(dirname(inc.origin.file)) };
    if (command !== undefined && command.trim() !== '') lw.command = command;
    if (port !== undefined) lw.port = port;
    workloads.push(lw);
  }
  return { workloads, problems, warnings };
}

/** Environment for a workload's command: where to listen and which explicit proxy to use. */
export function appEnv(w: LocalWorkload, proxyPort: number): Record<string, string> {
  const env: Record<string, string> = {
    MESHLET_WORKLOAD: w.name,
    MESHLET_NAMESPACE: w.namespace,
    BIND_ADDRESS: w.address,
    POD_IP: w.address,
  };
  if (w.port !== undefined) env.PORT = String(w.port);
  for (const [k, v] of Object.entries(w.labels)) env[`MESHLET_LABEL_${k.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = v;
  if (w.proxied) {
    const url = `http://${w.address}:${proxyPort}`;
    Object.assign(env, { HTTP_PROXY: url, http_proxy: url, MESHLET_PROXY: url, NO_PROXY: '', no_proxy: '' });
  }
  return env;
}
