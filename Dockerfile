# syntax=docker/dockerfile:1
#
# rtms-connector container image: multi-stage, production dependencies only, non-root.
#
#   docker build -t rtms-connector .
#   docker run --rm -p 8080:8080 \
#     -e ZM_RTMS_CLIENT=... -e ZM_RTMS_SECRET=... -e ZM_WEBHOOK_SECRET_TOKEN=... -e ADMIN_TOKEN=... \
#     -v rtms-data:/data rtms-connector
#
# test/unit/ops/dockerfile.test.ts checks this file against the project (no engine in CI).

ARG NODE_VERSION=24

# ── build: all dependencies, TypeScript → dist/ ───────────────────────────────────────────
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ── runtime: production dependencies and the compiled output only ─────────────────────────
FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    OUTPUT_DIR=/data
WORKDIR /app
# package.json is also read at run time (dist/main.js reports its version).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
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
