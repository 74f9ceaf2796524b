# One image for every shape: MODULES and ROLE pick what a container runs (design brief §9).
#
# Three build arguments choose where the pieces come from, so the same file builds with a registry
# (the defaults) and without one (ops/image/build.sh, which CI runs with podman):
#   NODE_IMAGE     an image with the Node binary at /usr/local/bin/node — the major pinned in
#                  package.json (ADR 0001); with DEPS_FROM=npm it also needs npm
#   RUNTIME_IMAGE  what the app runs on: glibc, libstdc++, CA certificates, tzdata and nothing else
#                  (no shell, no package manager)
#   DEPS_FROM      npm: `npm ci --omit=dev` inside NODE_IMAGE;
#                  host: production node_modules installed by build.sh, as .image/node_modules.tar
#                  (its Node image carries no npm; one tarball goes into the context much faster
#                  than thousands of small files, and ADD unpacks it)
# Sources run as written: Node 24 strips the TypeScript types itself, so there is no compile stage.
ARG NODE_IMAGE=docker.io/library/node:24.21.0-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
ARG DEPS_FROM=npm

FROM ${NODE_IMAGE} AS node

FROM ${NODE_IMAGE} AS deps-npm
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# typescript (valibot's peer) and @types (through @bull-board/koa) are never loaded at run time
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && rm -rf node_modules/typescript node_modules/@types

FROM scratch AS deps-host
ADD .image/node_modules.tar /app/

FROM deps-${DEPS_FROM} AS deps

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production \
    PORT=8000 \
    HOME=/tmp \
    JWT_KEYS_DIR=/var/run/secrets/boxoffice
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
# Everything under /app belongs to root and is only readable by the app user: the process cannot
# change its own code, and the root file system can be mounted read-only. The app writes only to
# /tmp (Unleash's flag backup) and reads keys from the mounted JWT_KEYS_DIR.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY feature-flags ./feature-flags
USER 1000:1000
EXPOSE 8000
# Node is PID 1 and handles SIGTERM itself (src/main.ts: not-ready, drain, close pools); it spawns
# no children, so there are no zombies to reap and no tini is needed.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["src/main.ts"]
