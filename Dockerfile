# syntax=docker/dockerfile:1
#
# rtms-connector container image: multi-stage, production dependencies only, non-root.
#
#   docker build -t rtms-connector .
#   docker run --rm -p 8080:8080 \
#     -e ZM_RTMS_CLIENT=... -e ZM_RTMS_SECRET=... -e ZM_WEBHOOK_SECRET_TOKEN=... -e ADMIN_TOKEN=... \
#     -v rtms-data:/data rtms-connector
#
# test/unit/ops/dockerfile.test.ts checks this file against the project; scripts/imageCheck.sh
# builds it and runs the image against the Zoom simulator (CI: .ci/run).

# The Node release the project pins (package.json devDependency `node`) on a fixed Debian
# release, so a rebuild does not silently move to another major or distribution. Add the
# registry's digest (`node:…-slim@sha256:…`) where images must be reproducible byte for byte.
ARG NODE_VERSION=24.21.0

# ── deps: production dependencies only, installed once ────────────────────────────────────
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# ── build: all dependencies, TypeScript → dist/ (src/ is the connector only; the Zoom
#    stand-in is the workspace packages/rtms-simulator, which is not in the build context, so
#    npm ci leaves it out) ─────────────────────────────────────────────────────────────────
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ── runtime: package.json, production dependencies and the compiled output only ──────────
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    OUTPUT_DIR=/data
WORKDIR /app
# package.json is also read at run time (dist/main.js reports its version).
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The volume's mount point belongs to the unprivileged `node` user of the base image, so a
# fresh named volume is writable by it.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
VOLUME ["/data"]
# No curl in slim images: Node's fetch does the probe. /healthz answers while the process
# and its event loop are alive; use /readyz for a load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: Node is PID 1 and receives SIGTERM itself (streams closed, files finalized).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
