# The gateway image. Build steps are the commands CI runs: `npm ci` installs and builds
# (its `prepare` script generates the GraphQL types and compiles TypeScript).
# Debian's current stable (13, trixie) under Node.js 24.
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json schema.graphql ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:24-trixie-slim
# OCI labels; the version is package.json's (a test keeps them equal), the source given at build time:
#   docker build --build-arg SOURCE_URL=https://github.com/<owner>/<repo> .
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="visual-layer-gateway" \
      org.opencontainers.image.description="A GraphQL backend-for-frontend gateway in front of the Visual Layer Cloud REST API" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY --from=build /app/package.json /app/schema.graphql ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
# Liveness only: an unreachable Visual Layer is /health/ready's business, not a reason to restart.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly (not npm) so SIGTERM reaches the gateway and it shuts down gracefully.
CMD ["node", "dist/server.js"]
