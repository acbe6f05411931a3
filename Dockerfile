# syntax=docker/dockerfile:1
# K2 in one image: Binance streams -> exactly-once Parquet -> query API, one Bun process.
#
#   make docker-build          # docker build -t k2:dev . (needs a Docker engine)
#   docker run --init -p 8000:8000 -v k2-data:/data \
#     -e K2_API_KEYS=<comma-separated keys, 16-256 URL-safe chars each> k2:dev
#
# K2_HOST=0.0.0.0 below makes the API reachable from outside the container, so API keys are
# required: K2 refuses to start on a non-loopback host without K2_API_KEYS (exit 2, one line).
# Pass them at run time (-e or an env file), never bake them into the image.
#
# Base image: the official Bun image pinned by version, the same Bun as package.json and CI
# (scripts/lint-dockerfile.ts checks both stages). Pinned by tag only: no digest of
# oven/bun:1.4.5 could be verified from this workspace, and an invented one would fail the build.
# Written out in each FROM (no ARG) so Dependabot's docker ecosystem can read and bump it.

# ---- deps: production dependencies only, exactly as locked ----------------------------------
FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production

# ---- runtime: dependencies + source, non-root, data on a volume ------------------------------
FROM oven/bun:1.4.5 AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    K2_HOST=0.0.0.0 \
    K2_PORT=8000 \
    K2_DATA_DIR=/data
# Code and dependencies stay root-owned (read-only for the service); only /data is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY src ./src
# The official image ships a non-root user "bun" (uid 1000).
RUN mkdir -p /data && chown bun:bun /data
VOLUME ["/data"]
USER bun
EXPOSE 8000
# Liveness only (/health/live answers while the process serves); /health/ready is for a load
# balancer. The image need not have curl, so Bun itself does the request. No --start-period:
# K2 answers within about a second, and dockerfilelint 1.8.0 wrongly rejects that option.
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:' + (process.env.K2_PORT || '8000') + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Identical to the last step of `make start` (SIGTERM drains within K2_SHUTDOWN_GRACE_MS).
CMD ["bun", "run", "start"]
