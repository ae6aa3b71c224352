/** ProxySnapshot, the types every part of the contract uses. */

/** The object that produced an item: used in metric labels, `meshlet explain` and error text. */
export interface Provenance {
  /** Kind of the source object, e.g. `VirtualService`, `Service`, `DestinationRule`, or `default`. */
  kind: string;
  /** Namespace of the source object (empty for mesh-wide defaults). */
  namespace: string;
  /** Name of the source object. */
  name: string;
}

/**
 * The application protocol of a listener or cluster. Each closed set of values in the
 * contract is one `as const` list: the type is derived from it and the validator
 * (common/snapshot-validate.ts) checks against the same list.
 */
export const PROTOCOLS = ['http', 'http2', 'grpc', 'tcp', 'tls', 'auto'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
