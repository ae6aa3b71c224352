/**
 * The containers and volumes the injector adds: `meshlet-init` (installs the nat rules, NET_ADMIN
 * and NET_RAW only) and `meshlet-proxy` (uid/gid 1337, non-root, read-only root, no capabilities).
 * Pure builders from the effective settings.
 */
import { DEFAULT_TRUST_DOMAIN } from '../common/spiffe.ts';
import { INIT_CONTAINER, PROXY_CONTAINER, PROXY_GID, PROXY_UID, TOKEN_AUDIENCE, VOLUMES } from './constants.ts';
import type { SidecarSettings } from './overrides.ts';
import type { AppMetrics, AppProbes } from './probes.ts';
import type { Container } from './pod-types.ts';

/** Never captured inbound: the proxy's own health and metrics ports (and admin, bound to 127.0.0.1 anyway). */
function proxyInboundPorts(s: SidecarSettings): number[] {
  return [s.values.ports.admin, s.values.ports.health, s.values.ports.prometheus];
}

function joinPorts(extra: number[], list: string): string {
  const all = [...extra.map(String), ...list.split(',').map((p) => p.trim()).filter((p) => p !== '')];
  return [...new Set(all)].join(',');
}

/** The `meshlet init-iptables` arguments for these settings. */
export function initArgs(s: SidecarSettings): string[] {
  const t = s.values.traffic;
  return [
    'init-iptables',
    '--proxy-uid', String(PROXY_UID), '--proxy-gid', String(PROXY_GID),
    '--outbound-port', String(s.values.ports.outbound), '--inbound-port', String(s.values.ports.inbound),
    '--inbound-ports', s.includeInboundPorts,
    '--exclude-inbound-ports', joinPorts(proxyInboundPorts(s), t.excludeInboundPorts),
    '--exclude-outbound-ports', joinPorts([], t.excludeOutboundPorts),
    '--include-outbound-ip-ranges', t.includeOutboundIPRanges,
    '--exclude-outbound-ip-ranges', t.excludeOutboundIPRanges,
  ];
}

export function initContainer(s: SidecarSettings): Container {
  return {
    name: INIT_CONTAINER,
    image: s.values.image,
    imagePullPolicy: s.values.imagePullPolicy,
    command: ['meshlet'],
    args: initArgs(s),
    resources: s.values.init.resources,
    // Root is needed to write netfilter rules; every capability but these two is dropped.
    securityContext: {
      runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, privileged: false, allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
}

const fieldEnv = (name: string, fieldPath: string): Record<string, unknown> => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

export interface ProxyInputs {
  settings: SidecarSettings;
  native: boolean;
  appContainers: string[];
  appProbes: AppProbes;
  appMetrics: AppMetrics | null;
}

/** Polls the proxy's readiness from a postStart hook: the start hold on clusters without native sidecars. */
export function holdScript(port: number, timeoutSeconds: number): string {
  return `const d=Date.now()+${timeoutSeconds * 1000};const t=()=>fetch('http://127.0.0.1:${port}/healthz/ready').then(r=>{if(r.ok)process.exit(0);throw 0}).catch(()=>{if(Date.now()>d)process.exit(1);setTimeout(t,200)});t();`;
}

export function proxyContainer(p: ProxyInputs): Container {
  const v = p.settings.values;
  const ready = { httpGet: { path: '/healthz/ready', port: v.ports.health, scheme: 'HTTP' } };
  const env: Record<string, unknown>[] = [
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldEnv('POD_IP', 'status.podIP'),
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    { name: 'MESHLET_LOG_LEVEL', value: v.proxy.logLevel },
    { name: 'PROXY_CONCURRENCY', value: String(v.proxy.concurrency) },
    { name: 'POD_LABELS_FILE', value: `${VOLUMES.podinfo.mountPath}/labels` },
    { name: 'APP_CONTAINERS', value: p.appContainers.join(',') },
    { name: 'APP_PROBES', value: JSON.stringify(p.appProbes) },
  ];
  if (p.appMetrics !== null) env.push({ name: 'APP_METRICS', value: JSON.stringify(p.appMetrics) });
  const c: Container = {
    name: PROXY_CONTAINER,
    image: v.image,
    imagePullPolicy: v.imagePullPolicy,
    command: ['meshlet'],
    args: [
      'proxy',
      '--operator', `https://${v.operatorAddress}`,
      '--ca-file', `${VOLUMES.caRoot.mountPath}/${VOLUMES.caRoot.file}`,
      '--token-file', `${VOLUMES.token.mountPath}/${VOLUMES.token.file}`,
      '--labels-file', `${VOLUMES.podinfo.mountPath}/labels`,
      '--log-level', v.proxy.logLevel,
      // The template's ports, so a changed value moves the proxy and the capture rules together.
      '--outbound-port', String(v.ports.outbound), '--inbound-port', String(v.ports.inbound), '--admin-port', String(v.ports.admin),
      '--ready-port', String(v.ports.health), '--stats-port', String(v.ports.prometheus),
      // The proxy's own default is cluster.local; any other domain must reach it, or it refuses every peer.
      ...(v.trustDomain === DEFAULT_TRUST_DOMAIN ? [] : ['--trust-domain', v.trustDomain]),
    ],
    ports: [
      { name: 'http-mesh-prom', containerPort: v.ports.prometheus, protocol: 'TCP' },
      { name: 'mesh-health', containerPort: v.ports.health, protocol: 'TCP' },
    ],
    env,
    resources: v.proxy.resources,
    readinessProbe: { ...ready, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 },
    securityContext: {
      runAsUser: PROXY_UID, runAsGroup: PROXY_GID, runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: VOLUMES.token.name, mountPath: VOLUMES.token.mountPath, readOnly: true },
      { name: VOLUMES.podinfo.name, mountPath: VOLUMES.podinfo.mountPath, readOnly: true },
      { name: VOLUMES.caRoot.name, mountPath: VOLUMES.caRoot.mountPath, readOnly: true },
      { name: VOLUMES.data.name, mountPath: VOLUMES.data.mountPath },
    ],
  };
  if (p.native) {
    // Native sidecar: started before the app, kept running beside it, stopped after it (Jobs complete).
    c.restartPolicy = 'Always';
    c.startupProbe = { ...ready, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 };
  } else {
    // Start hold: the kubelet starts the next container only once this postStart hook returns.
    c.lifecycle = { postStart: { exec: { command: ['node', '-e', holdScript(v.ports.health, v.holdTimeoutSeconds)] } } };
  }
  return c;
}

export function sidecarVolumes(): Record<string, unknown>[] {
  return [
    { name: VOLUMES.token.name, projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: 43200, path: VOLUMES.token.file } }] } },
    {
      name: VOLUMES.podinfo.name,
      downwardAPI: { items: [
        { path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.annotations' } },
      ] },
    },
    { name: VOLUMES.caRoot.name, configMap: { name: VOLUMES.caRoot.configMap, optional: true } },
    { name: VOLUMES.data.name, emptyDir: { medium: 'Memory' } },
  ];
}
