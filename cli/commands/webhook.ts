import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parseFlags } from '../args.ts';
import { createLogger } from '../../common/log.ts';
import { PORTS } from '../../webhook/constants.ts';
import { startWebhook } from '../../webhook/run.ts';
import { serviceHosts } from '../../webhook/constants.ts';
import { validatePlugin } from '../../webhook/validate.ts';

const HELP = `Usage: meshlet webhook [flags]

Runs the sidecar injector alone (the operator normally serves it on :15017). Answers
AdmissionReview v1 for pod CREATE at POST /inject, and for the Istio mesh kinds at
POST /validate (the full validators, so every rule is enforced at kubectl apply), over HTTPS. Without --tls-cert-file it
issues its own serving certificate, writes the CA into the caBundle of the
MutatingWebhookConfiguration(s) named by --webhook-config, and renews it before expiry.

Flags:
  --kubeconfig PATH        kubeconfig (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --host ADDR              listen address (default 0.0.0.0)
  --port N                 HTTPS port (default ${PORTS.webhook})
  --tls-cert-file PATH     serve this certificate (with --tls-key-file); no caBundle is written
  --tls-key-file PATH
  --cert-host NAME         SAN of the issued certificate; repeatable (default: the meshlet Service names)
  --cert-secret NS/NAME    Secret the replicas share the issued certificate through
                           (default meshlet-system/meshlet-webhook-tls; "" = none)
  --webhook-config NAME    MutatingWebhookConfiguration whose caBundle to keep current; repeatable
                           (default meshlet-sidecar-injector)
  --validating-config NAME ValidatingWebhookConfiguration whose caBundle to keep current; repeatable
                           (the chart installs meshlet-validator; default none)
  --native-sidecars on|off|auto   native sidecars (default auto: apiserver >= 1.29)
  --template-namespace NS  namespace of the template ConfigMap (default meshlet-system)
  --template-configmap NAME  template ConfigMap (default meshlet-sidecar-injector)
  --metrics-port N         plain HTTP /metrics port (default 15014; 0 = off)
  --log-level LEVEL        trace|debug|info|warn|error (default info or $MESHLET_LOG_LEVEL)
  -h, --help

Examples:
  meshlet webhook --kubeconfig ~/.kube/config
  meshlet webhook --port 9443 --cert-host 127.0.0.1 --metrics-port 0
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'tls-cert-file': { type: 'string' },
    'tls-key-file': { type: 'string' },
    'cert-host': { type: 'string', multiple: true },
    'webhook-config': { type: 'string', multiple: true },
    'validating-config': { type: 'string', multiple: true },
    'cert-secret': { type: 'string' },
    'native-sidecars': { type: 'string' },
    'template-namespace': { type: 'string' },
    'template-configmap': { type: 'string' },
    'metrics-port': { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = createLogger({ component: 'webhook', level: values['log-level'] as string | undefined });
  const kc = new KubeConfig();
  if (typeof values.kubeconfig === 'string') kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();
  const certFile = values['tls-cert-file'];
  const keyFile = values['tls-key-file'];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    process.stderr.write('meshlet webhook: --tls-cert-file and --tls-key-file go together\n');
    return 2;
  }
  const nativeFlag = (values['native-sidecars'] as string | undefined) ?? 'auto';
  if (!['on', 'off', 'auto'].includes(nativeFlag)) {
    process.stderr.write(`meshlet webhook: --native-sidecars must be on, off or auto, got ${nativeFlag}\n`);
    return 2;
  }
  const secretFlag = values['cert-secret'] as string | undefined;
  const secretParts = secretFlag?.split('/');
  if (secretFlag !== undefined && secretFlag !== '' && (secretParts?.length !== 2 || secretParts.some((x) => x === ''))) {
    process.stderr.write(`meshlet webhook: --cert-secret must be NAMESPACE/NAME, got ${secretFlag}\n`);
    return 2;
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const webhook = await startWebhook({
    kubeConfig: kc,
    log,
    registry,
    host: values.host as string | undefined,
    port: values.port === undefined ? undefined : Number(values.port),
    tls: typeof certFile === 'string' && typeof keyFile === 'string' ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') } : undefined,
    certHosts: (values['cert-host'] as string[] | undefined) ?? serviceHosts(),
    mutatingConfigurations: values['webhook-config'] as string[] | undefined,
    validatingConfigurations: values['validating-config'] as string[] | undefined,
    plugins: [async (app: FastifyInstance) => { await app.register(validatePlugin, { registry }); }],
    certSecret: secretFlag === undefined ? undefined : secretFlag === '' ? null : { namespace: secretParts![0]!, name: secretParts![1]! },
    native: nativeFlag === 'auto' ? undefined : nativeFlag === 'on',
    templateNamespace: values['template-namespace'] as string | undefined,
    templateName: values['template-configmap'] as string | undefined,
  });
  const metricsPort = Number(values['metrics-port'] ?? 15014);
  const metrics = metricsPort === 0 ? undefined : createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    void registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
  }).listen(metricsPort, values.host as string | undefined ?? '0.0.0.0');
  // Ready line for scripts and tests: the port actually bound.
  process.stdout.write(`meshlet webhook listening on ${webhook.port}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  metrics?.close();
  await webhook.close();
  return 0;
}
