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

/** The application protocol of a listener or cluster. */
export type Protocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'tls' | 'auto';
