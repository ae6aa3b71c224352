/** Every kind this schema source describes, in generation order. */
import type { KindDef } from './dsl.ts';
import { virtualService } from './virtual-service.ts';
import { destinationRule } from './destination-rule.ts';
import { authorizationPolicy, peerAuthentication, requestAuthentication } from './security.ts';

export const kinds: readonly KindDef[] = [virtualService, destinationRule, peerAuthentication, authorizationPolicy, requestAuthentication];
