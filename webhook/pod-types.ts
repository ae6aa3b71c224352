/**
 * The subset of the Pod JSON the injector reads and writes. Plain JSON shapes (what the
 * AdmissionReview carries), not client-node's classes; unknown fields pass through untouched.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface HttpGet { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] }
export interface Probe { httpGet?: HttpGet; tcpSocket?: unknown; grpc?: unknown; exec?: unknown; timeoutSeconds?: number; [key: string]: unknown }

export interface ContainerPort { containerPort: number; name?: string; protocol?: string; [key: string]: unknown }

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  restartPolicy?: string;
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  serviceAccountName?: string;
  [key: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
  [key: string]: unknown;
}

/** What the decision needs to know about the pod's namespace. */
export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
