/**
 * The one place @peculiar/x509 is loaded. It needs the `reflect-metadata` polyfill (its
 * tsyringe container) loaded first, and WebCrypto set as its provider. Shared by the CA
 * (operator) and the sidecar's CSR code. node-forge is not used: it cannot read or sign EC keys.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
