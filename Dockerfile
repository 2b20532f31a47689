# nms-server and nms-agent as one small image.
#
#   docker build -t nms .
#   docker run -d --name nms -p 8080:8080 -p 8081:8081 -v nms-data:/data nms
#   docker exec nms nms-server user list          # manage users in the running container
#   docker run --rm --entrypoint nms-agent nms --help
#
# On first start without users the server creates `admin` and writes its
# password to /data/initial-admin-password (or set NMS_ADMIN_PASSWORD).

# --- build: compile both binaries ---------------------------------------------------
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
# Dependencies first (npm packages pinned by deno.lock): editing the sources does not refetch them.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY protocol/ protocol/
COPY common/ common/
COPY server/ server/
COPY agent/ agent/
# tools/build_info.ts records the version and commit for --version (issue 10):
#   docker build --build-arg NMS_BUILD_COMMIT=$(git rev-parse --short HEAD) -t nms .
COPY tools/ tools/
ARG NMS_BUILD_COMMIT=""
# The compile task --includes the Worker modules, which `deno compile` would otherwise
# leave out; the console's static files are text imports, already in the module graph
# (tests/compile_includes_test.ts checks both).
RUN deno task compile \
  && ./dist/nms-server --version \
  && mkdir -p /out/data /out/agent-state

# --- run: glibc and libgcc only, no shell, non-root -------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/nms-server /src/dist/nms-agent /usr/local/bin/
# A static wget for HEALTHCHECK only (distroless has no shell, curl or wget).
COPY --from=busybox:1.36-musl /bin/busybox /usr/local/bin/busybox
# The data directory must belong to the non-root user before the volume is mounted,
# so a fresh named volume inherits that ownership. 65532 = distroless "nonroot".
COPY --from=build --chown=65532:65532 /out/data /data
# The agent's state directory, for compose.yaml's agent service (named volume nms-agent-state).
COPY --from=build --chown=65532:65532 /out/agent-state /var/lib/nms-agent
USER 65532:65532
ENV NMS_DB=/data/nms.db
VOLUME /data
# 8080: agent protocol (plain TCP; see docs/PROTOCOL.md). 8081: web console and /healthz.
EXPOSE 8080 8081
# /healthz answers 200 while the server runs and its database answers
# (server/dashboard/monitor_routes.ts); the console listens on 8081.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8081/healthz"]
ENTRYPOINT ["/usr/local/bin/nms-server"]
CMD ["serve"]
