/**
 * undici's Pool, Agent and connector without its index module. The index also loads fetch,
 * WebSocket, EventSource, the cache stores, mocks and interceptors (110 modules, node:zlib,
 * node:dns, node:http2 with them): ~13 MB of RSS in a process that needs ~3 MB of it. Same
 * module instances as the index; the request API (`dispatcher.request/stream/…`) is mixed
 * into Dispatcher exactly as the index does, so both can be loaded side by side.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);

const Dispatcher = load('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
Object.assign(Dispatcher.prototype, load('undici/lib/api/index.js'));

export const Pool = load('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export type Pool = Undici.Pool;
export const Agent = load('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const buildConnector = load('undici/lib/core/connect.js') as typeof Undici.buildConnector;
export type Connector = Undici.buildConnector.connector;
export type ConnectorOptions = Undici.buildConnector.BuildOptions;
