/** security.istio.io PeerAuthentication and AuthorizationPolicy: Istio's field names and semantics. */
import { arr, bool, duration, map, obj, str, strings } from './dsl.ts';
import type { KindDef } from './dsl.ts';
import { condition, policyTargetReference, workloadSelector } from './common.ts';

const mtlsMode = (doc: string) => str(doc, { enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] });

export const peerAuthenticationSpec = obj('PeerAuthenticationSpec', 'PeerAuthentication defines mutual TLS (mTLS) requirements for incoming connections.', {
  selector: workloadSelector,
  mtls: obj('PeerAuthenticationMutualTLS', 'Mutual TLS settings.', { mode: mtlsMode('Defines the mTLS mode used for peer authentication.') }),
  portLevelMtls: map('Port specific mutual TLS settings (keys are port numbers).', obj('PeerAuthenticationPortMutualTLS', 'Mutual TLS settings for one port.', { mode: mtlsMode('Defines the mTLS mode used for peer authentication.') })),
});

const source = obj('Source', 'Source specifies the source identities of a request.', {
  principals: strings('A list of peer identities derived from the peer certificate.'),
  notPrincipals: strings('A list of negative match of peer identities.'),
  requestPrincipals: strings('A list of request identities (`<iss>/<sub>` of a JWT verified by a RequestAuthentication).'),
  notRequestPrincipals: strings('A list of negative match of request identities.'),
  namespaces: strings('A list of namespaces derived from the peer certificate.'),
  notNamespaces: strings('A list of negative match of namespaces.'),
  ipBlocks: strings('A list of IP blocks, populated from the source address of the IP packet.'),
  notIpBlocks: strings('A list of negative match of IP blocks.'),
  remoteIpBlocks: strings('A list of IP blocks, populated from X-Forwarded-For header or proxy protocol.'),
  notRemoteIpBlocks: strings('A list of negative match of remote IP blocks.'),
  serviceAccounts: strings('A list of service accounts derived from the peer certificate (namespace/name).'),
  notServiceAccounts: strings('A list of negative match of service accounts.'),
  trustDomains: strings('A list of trust domains derived from the peer certificate.'),
  notTrustDomains: strings('A list of negative match of trust domains.'),
});

const operation = obj('Operation', 'Operation specifies the operations of a request.', {
  hosts: strings('A list of hosts as specified in the HTTP request.'),
  notHosts: strings('A list of negative match of hosts.'),
  ports: strings('A list of ports as specified in the connection.'),
  notPorts: strings('A list of negative match of ports.'),
  methods: strings('A list of methods as specified in the HTTP request.'),
  notMethods: strings('A list of negative match of methods.'),
  paths: strings('A list of paths as specified in the HTTP request.'),
  notPaths: strings('A list of negative match of paths.'),
});

const rule = obj('Rule', 'Rule matches requests from a list of sources that perform a list of operations subject to a list of conditions.', {
  from: arr('Optional. from specifies the source of a request.', obj('RuleFrom', 'From includes a list of sources.', { source }, { required: ['source'] })),
  to: arr('Optional. to specifies the operation of a request.', obj('RuleTo', 'To includes a list of operations.', { operation }, { required: ['operation'] })),
  when: arr('Optional. when specifies a list of additional conditions of a request.', condition()),
});

export const authorizationPolicySpec = obj('AuthorizationPolicySpec', 'AuthorizationPolicy enables access control on workloads.', {
  selector: workloadSelector,
  targetRef: { ...policyTargetReference, unenforced: 'meshlet has no gateways/waypoints yet; use selector' },
  targetRefs: arr('Optional. The targetRefs specifies a list of resources the policy should be applied to.', policyTargetReference, { unenforced: 'meshlet has no gateways/waypoints yet; use selector' }),
  rules: arr('Optional. A list of rules to match the request.', rule),
  action: str('Optional. The action to take if the request is matched with the rules. Default is ALLOW if not specified.', { enum: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] }),
  provider: obj('ExtensionProvider', 'Specifies detailed configuration of the CUSTOM action.', {
    name: str('Specifies the name of the extension provider.'),
  }, { unenforced: 'the CUSTOM action (external authorization) is out of scope for meshlet' }),
}, {
  oneOf: [['selector', 'targetRef', 'targetRefs']],
  cel: [
    { rule: "(has(self.action) ? self.action : 'ALLOW') == 'CUSTOM' || !has(self.provider)", code: 'MESHLET_CRD_AP_PROVIDER', message: 'provider is only allowed with action CUSTOM', fieldPath: '.provider' },
    { rule: "!has(self.action) || self.action != 'DENY' || (has(self.rules) && size(self.rules) > 0)", code: 'MESHLET_CRD_AP_NO_RULES', message: 'a DENY policy without rules never matches; add rules (an empty rule {} matches every request)', fieldPath: '.rules' },
  ],
});

export const peerAuthentication: KindDef = {
  group: 'security.istio.io',
  kind: 'PeerAuthentication',
  plural: 'peerauthentications',
  singular: 'peerauthentication',
  shortNames: ['pa'],
  categories: ['istio-io', 'security-istio-io'],
  versions: ['v1beta1', 'v1'],
  storageVersion: 'v1',
  spec: peerAuthenticationSpec,
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mtls.mode', description: 'Defines the mTLS mode used for peer authentication.' },
  ],
};

export const authorizationPolicy: KindDef = {
  group: 'security.istio.io',
  kind: 'AuthorizationPolicy',
  plural: 'authorizationpolicies',
  singular: 'authorizationpolicy',
  shortNames: ['ap'],
  categories: ['istio-io', 'security-istio-io'],
  versions: ['v1beta1', 'v1'],
  storageVersion: 'v1',
  spec: authorizationPolicySpec,
  printerColumns: [
    { name: 'Action', type: 'string', jsonPath: '.spec.action', description: 'The operation to take.' },
  ],
};

const jwtHeader = obj('JWTHeader', 'A header from which the token is extracted.', {
  name: str('The HTTP header name.'),
  prefix: str('The prefix that should be stripped before decoding the token (e.g. "Bearer ").'),
}, { required: ['name'] });

const claimToHeader = obj('ClaimToHeader', 'A claim copied into a request header after verification.', {
  header: str('The name of the header to be created; it is overridden if it already exists.'),
  claim: str('The name of the claim to be copied from; nested claims use "." (e.g. "nested.key").'),
}, { required: ['header', 'claim'] });

const jwtRule = obj('JWTRule', 'JSON Web Token (JWT) format for authentication (RFC 7519).', {
  issuer: str('Identifies the issuer that issued the JWT (the `iss` claim).'),
  audiences: strings('The list of JWT audiences allowed to access; a token whose `aud` holds none of them is rejected. Empty: any audience.'),
  jwksUri: str('URL of the provider\'s public key set to validate the signature of the JWT; fetched by the operator (not the proxies) and pushed with the config.'),
  jwks_uri: str('The legacy spelling of jwksUri that Istio\'s CRD still accepts; used when jwksUri is not set.', { deprecated: true }),
  jwks: str('JSON Web Key Set of public keys to validate the signature of the JWT (inline).'),
  fromHeaders: arr('List of header locations from which the JWT is expected. Default: Authorization: Bearer <token>.', jwtHeader),
  fromParams: strings('List of query parameters from which the JWT is expected. Default: access_token.'),
  outputPayloadToHeader: str('The header that receives the successfully verified JWT payload (base64url-encoded JSON).'),
  fromCookies: strings('List of cookie names from which the JWT is expected.'),
  forwardOriginalToken: bool('If true, the original token is kept for the upstream request; by default the header carrying it is removed.'),
  outputClaimToHeaders: arr('Copies claims of a verified token into request headers.', claimToHeader),
  timeout: duration('How long the operator waits for the jwksUri to answer (default 5s).'),
  spaceDelimitedClaims: strings('Claims whose string value is a space-separated list (e.g. "scope"); in conditions each element matches on its own.'),
  presence: str('Whether a token must be present: OPTIONAL (default: a request without one passes unauthenticated) or REQUIRED (401 without one).', { enum: ['OPTIONAL', 'REQUIRED'] }),
});

export const requestAuthenticationSpec = obj('RequestAuthenticationSpec', 'RequestAuthentication defines what request authentication methods are supported by a workload.', {
  selector: workloadSelector,
  targetRef: { ...policyTargetReference, unenforced: 'meshlet has no gateways/waypoints yet; use selector' },
  targetRefs: arr('Optional. The targetRefs specifies a list of resources the policy should be applied to.', policyTargetReference, { unenforced: 'meshlet has no gateways/waypoints yet; use selector' }),
  jwtRules: arr('Define the list of JWTs that can be validated at the selected workloads\' proxy.', jwtRule, { maxItems: 4096 }),
}, { oneOf: [['selector', 'targetRef', 'targetRefs']] });

export const requestAuthentication: KindDef = {
  group: 'security.istio.io',
  kind: 'RequestAuthentication',
  plural: 'requestauthentications',
  singular: 'requestauthentication',
  shortNames: ['ra'],
  categories: ['istio-io', 'security-istio-io'],
  versions: ['v1beta1', 'v1'],
  storageVersion: 'v1',
  spec: requestAuthenticationSpec,
  printerColumns: [],
};
