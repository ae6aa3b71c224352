import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layering (docs/ARCHITECTURE.md, "Layering"): common ← crds ← proxy, webhook ← operator ← cli.
// Each part may import only the parts to its left; `no-restricted-imports` fails `npm run lint`
// on any other. Import cycles (type-only ones included) are checked by test/unit/imports.test.ts.
const PARTS = ['common', 'crds', 'proxy', 'webhook', 'operator', 'cli'];
const FORBIDDEN = {
  common: ['crds', 'proxy', 'webhook', 'operator', 'cli'],
  crds: ['proxy', 'webhook', 'operator', 'cli'],
  proxy: ['webhook', 'operator', 'cli'],
  webhook: ['proxy', 'operator', 'cli'],
  operator: ['cli'],
};
const partPattern = (part, parts) => ({
  regex: `^(\\.\\./)+(${parts.join('|')})/`,
  message: `${part}/ must not import ${parts.join(', ')} (layering: docs/ARCHITECTURE.md).`,
});
// Operator translation and the World are pure functions of their input: no file system,
// network, process, clock or client, so the same input always gives the same snapshot.
const IO_MODULES = ['fs', 'fs/promises', 'net', 'tls', 'http', 'http2', 'https', 'dgram', 'dns', 'child_process', 'os', 'process', 'worker_threads', 'timers', 'timers/promises', 'cluster', 'readline'];
const PURE_IMPORTS = [
  ...IO_MODULES.flatMap((m) => [`node:${m}`, m]).map((name) => ({ name, message: 'operator/translate and operator/world are pure: no I/O (docs/ARCHITECTURE.md).' })),
  ...['@kubernetes/client-node', 'undici', 'fastify', 'pino', 'prom-client'].map((name) => ({ name, message: 'operator/translate and operator/world are pure: no clients, loggers or metrics.' })),
];
const PURE_PATTERNS = [{ regex: '^\\.\\./(kube|sources|push|status|debug|compose|ca|store|ui)/|^\\.\\./(core|run|metrics)\\.ts$', message: 'operator/translate and operator/world are pure: they import only world/, translate/, common/ and crds/.' }];
const restrict = (part, pure = false) => ['error', {
  paths: pure ? PURE_IMPORTS : [],
  patterns: [...(FORBIDDEN[part]?.length ? [partPattern(part, FORBIDDEN[part])] : []), ...(pure ? PURE_PATTERNS : [])],
}];
const pureGlobals = ['process', 'setTimeout', 'setInterval', 'setImmediate', 'fetch', 'console', 'performance'].map((name) => ({ name, message: 'operator/translate and operator/world are pure: no process, timers, clock or output.' }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '**/node_modules/**', 'crds/generated/**', 'charts/**', 'test/bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', structuredClone: 'readonly', fetch: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', crypto: 'readonly', queueMicrotask: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...PARTS.filter((p) => FORBIDDEN[p]).map((part) => ({ files: [`${part}/**/*.ts`], rules: { 'no-restricted-imports': restrict(part) } })),
  {
    files: ['operator/translate/**/*.ts', 'operator/world/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict('operator', true),
      'no-restricted-globals': ['error', ...pureGlobals],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pure code takes the time as input' }, { object: 'Math', property: 'random', message: 'pure code takes randomness as input' }],
    },
  },
);
