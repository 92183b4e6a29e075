# syntax=docker/dockerfile:1
# envoy-jwt-authz image: Envoy ext_authz v3 gRPC service.
#
#   docker build -t envoy-jwt-authz:dev .
#   docker run --rm -p 9191:9191 -p 8181:8181 -v "$PWD/policies:/policies:ro" envoy-jwt-authz:dev
#
# Stages: `build` compiles TypeScript with every dependency; `deps` installs production dependencies only;
# the runtime stage holds dist/, proto/, the production node_modules and package.json, and runs as uid 1000.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing we depend on needs an install script, and none gets to run at build time.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json is needed at run time: it makes dist/*.js ES modules ("type": "module").
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY proto ./proto
COPY --from=build /app/dist ./dist
# Numeric uid/gid (the image's `node` user) so Kubernetes `runAsNonRoot` can verify it without a passwd lookup.
USER 1000:1000
# Policy documents (Istio / Kyma / Airlock YAML) are read from here and reloaded when they change.
VOLUME /policies
# 9191 gRPC (envoy.service.auth.v3.Authorization, grpc.health.v1.Health); 8181 HTTP (/healthz, /readyz, /metrics).
EXPOSE 9191 8181
# Liveness only (the process answers HTTP); readiness is /readyz. Node 20 has fetch, so no curl in the image.
# If you change --http-port, change the port here too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8181/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--max-old-space-size=256", "dist/cli.js", "serve", "--policies", "/policies"]
CMD ["--host", "0.0.0.0", "--grpc-port", "9191", "--http-port", "8181"]
