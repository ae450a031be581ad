# syntax=docker/dockerfile:1
# One image for the BFF (default command) and the finX sandbox (command `node dist/sandbox/main.js`).
# The app supports Node >= 20.18. 22 by default because Node 20 left support in April 2026;
# `--build-arg NODE_VERSION=20` gives the runtime the test suite was checked on.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are only those of dev tools (watchers, resolvers) that tsc does not need.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Both are read at run time relative to dist/.. (/app).
COPY public ./public
# openapi.yaml (repository root) is copied explicitly: the build fails loudly if it is missing.
COPY openapi.yaml ./openapi.yaml
# Everything above stays owned by root, so the app cannot rewrite its own code.
USER node
EXPOSE 3000
# Slim images have no curl; Node 20+ has fetch. Follows PORT if it is changed; the sandbox service
# in docker-compose.yml replaces this check with its own.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server.js"]
