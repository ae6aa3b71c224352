# syntax=docker/dockerfile:1
# The one meshlet image: operator (`meshlet operator`), sidecar proxy (`meshlet proxy`),
# init container (`meshlet init-iptables`) and CLI. A build stage compiles the TypeScript to
# JavaScript (`npm run build:dist`, tsconfig.build.json) and the image runs only that: no type
# stripping at run time, which would cost every process (every sidecar) ~12 MB of memory.
#
#   docker build -t ghcr.io/meshlet/meshlet:0.1.0 .
#   helm install meshlet charts/meshlet --set image.repository=ghcr.io/meshlet/meshlet --set image.tag=0.1.0
#
# Pin the base by digest in release builds: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:…
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- compile: sources → dist/ (JavaScript with .js imports). Install scripts are skipped: tsc
# needs no native module and no pinned node binary (the base image is Node 24).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-dist.ts ./scripts/build-dist.ts
COPY bin ./bin
COPY cli ./cli
COPY common ./common
COPY crds ./crds
COPY operator ./operator
COPY proxy ./proxy
COPY webhook ./webhook
RUN node scripts/build-dist.ts

# ---- production node_modules (no devDependencies: no typescript, eslint or pinned node binary)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE}
# iptables: `meshlet init-iptables` runs iptables-save/iptables-restore (nft backend, the
# Debian default). ca-certificates: OTLP export and registries over https.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 1337 meshlet \
 && useradd --system --uid 1337 --gid 1337 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin meshlet

ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
# Only what runs: bin/ and the compiled code; no TypeScript sources, so bin/meshlet runs dist/
# (bin/entry.js). Tests, docs, charts and examples stay out (see .dockerignore as well).
COPY bin ./bin
COPY --from=build /app/dist ./dist
RUN chmod 0755 /app/bin/meshlet \
 && ln -s /app/bin/meshlet /usr/local/bin/meshlet \
 && meshlet version --client | grep -q compiled

# uid/gid 1337: the proxy's own traffic bypasses capture by this uid (DESIGN §2). The operator
# runs as it too; the init container alone runs as root (the webhook sets runAsUser: 0 and
# only NET_ADMIN/NET_RAW).
USER 1337:1337
# Operator 15012/15014/15017; proxy 15001/15006/15021/15090 (admin 15000 is loopback only).
EXPOSE 15012 15014 15017 15001 15006 15021 15090
ENTRYPOINT ["meshlet"]
CMD ["--help"]
