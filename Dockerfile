# krm-sops as a KRM container function: an image holding nothing but the
# static binary. Build the binary first (`make static`); `make image` builds
# this image from it — no base image is pulled.
FROM scratch
# kustomize and kpt start container functions with `--user nobody`.
COPY docker/passwd docker/group /etc/
COPY target/x86_64-unknown-linux-musl/release/krm-sops /usr/local/bin/krm-sops
USER 65534:65534
# Mount the kustomization (or the files the config names) here: config paths are relative to it.
WORKDIR /workspace
ENTRYPOINT ["/usr/local/bin/krm-sops"]
