# syntax=docker/dockerfile:1
#
# The CKA exam engine's image: `docker build -t cka-engine .`
#
# The same image is built without Docker by `npm run image:build`
# (deploy/image/build.ts): the file system below is assembled by that very
# script in both cases (Node, the Debian libraries it loads, kubectl, the
# built app with its production dependencies, the user), and the runtime
# settings of the last stage are read from this file by it. A test
# (test/integration/deploy/engine-image.spec.ts) holds the two together.
# See deploy/image/README.md.

# Node: the version scripts/lib.sh pins (NODE_LTS_VERSION); Kubernetes: the
# sandbox's (sandbox/modules), whose kubectl the no-Docker build takes.
ARG NODE_VERSION=24.22.3
ARG KUBERNETES_VERSION=v1.36.3

FROM node:${NODE_VERSION}-bookworm AS build
ARG KUBERNETES_VERSION
WORKDIR /src
# Native modules (better-sqlite3, node-pty) build against the image's own headers.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# kubectl runs the bank's `kubectl` setup steps; the official release, checked
# against its published digest.
RUN curl -fsSLo /opt/kubectl "https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/kubectl" \
 && echo "$(curl -fsSL "https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/kubectl.sha256")  /opt/kubectl" | sha256sum -c - \
 && chmod 0755 /opt/kubectl
RUN npm run build \
 && apt-get update -qq \
 && npx tsx deploy/image/build.ts --rootfs-only /rootfs --kubectl /opt/kubectl

FROM scratch
# One layer: the whole file system, ownership kept (/app/data is the user's).
COPY --from=build /rootfs/ /
USER 10001:10001
WORKDIR /app
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    HOME=/tmp \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    TERMINAL_ENABLED=false \
    TERMINAL_KUBECTL=/usr/local/bin/kubectl
EXPOSE 3000/tcp
# Liveness of the API process (a worker serves no HTTP: run it with --no-healthcheck).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
LABEL org.opencontainers.image.title="cka-exam-engine" \
      org.opencontainers.image.description="Timed CKA mock exams graded against a live Kubernetes cluster" \
      org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["dist/src/main.js"]
