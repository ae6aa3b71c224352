/**
 * Cluster CA storage: Secrets in `meshlet-system`. A user-provided Secret `cacerts`
 * (Istio's name and shape: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) wins;
 * otherwise meshlet's own Secret `meshlet-ca`, created on first start with the same keys.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { materialEntries, materialFrom, type CaMaterial, type CaStore, type LoadedCa } from './material.ts';

export const CA_NAMESPACE = 'meshlet-system';
export const CA_SECRET = 'meshlet-ca';
export const USER_CA_SECRET = 'cacerts';

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function decode(secret: V1Secret): CaMaterial | undefined {
  const data = secret.data ?? {};
  const str = secret.stringData ?? {};
  return materialFrom((k) => {
    const b64 = data[k];
    return b64 !== undefined ? Buffer.from(b64, 'base64').toString('utf8') : str[k];
  });
}

export class SecretCaStore implements CaStore {
  readonly location: string;
  readonly #core: CoreV1Api;
  readonly #ns: string;
  readonly #userSecret: string;
  /** `userSecret`: the bring-your-own CA Secret (Istio's `cacerts` shape); the chart's `ca.existingSecret`. */
  constructor(core: CoreV1Api, namespace = CA_NAMESPACE, userSecret = USER_CA_SECRET) {
    this.#core = core;
    this.#ns = namespace;
    this.#userSecret = userSecret;
    this.location = `Secret ${namespace}/${CA_SECRET}`;
  }

  async #read(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.#core.readNamespacedSecret({ name, namespace: this.#ns });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async load(): Promise<LoadedCa | undefined> {
    const user = await this.#read(this.#userSecret);
    const userMaterial = user === undefined ? undefined : decode(user);
    if (userMaterial !== undefined) return { material: userMaterial, origin: 'user' };
    const own = await this.#read(CA_SECRET);
    const material = own === undefined ? undefined : decode(own);
    return material === undefined ? undefined : { material, origin: 'generated' };
  }

  async saveGenerated(m: CaMaterial): Promise<CaMaterial> {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(materialEntries(m))) data[k] = Buffer.from(v).toString('base64');
    try {
      await this.#core.createNamespacedSecret({
        namespace: this.#ns,
        body: { metadata: { name: CA_SECRET, namespace: this.#ns, labels: { 'app.kubernetes.io/managed-by': 'meshlet' } }, type: 'Opaque', data },
      });
      return m;
    } catch (err) {
      // Another replica created it first: use theirs so the mesh has a single root.
      if (statusOf(err) !== 409) throw err;
      const won = await this.#read(CA_SECRET);
      const material = won === undefined ? undefined : decode(won);
      if (material === undefined) throw err;
      return material;
    }
  }
}
