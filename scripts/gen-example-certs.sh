#!/bin/sh
# Writes the self-signed certificate and key the HTTPS listener of
# configs/examples/envoy-front-proxy.yaml reads (front-proxy.crt/.key next to
# it), as Envoy's front-proxy sandbox makes its pair. Existing files are kept;
# pass --force to replace them. They are not committed (.gitignore).
set -eu
dir="$(cd "$(dirname "$0")/.." && pwd)/configs/examples"
crt="$dir/front-proxy.crt"
key="$dir/front-proxy.key"
if [ -f "$crt" ] && [ -f "$key" ] && [ "${1:-}" != "--force" ]; then
  echo "kept $crt and $key (--force to replace them)"
  exit 0
fi
command -v openssl >/dev/null 2>&1 || { echo "openssl is needed to make the example certificate" >&2; exit 1; }
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=front-envoy' \
  -addext 'subjectAltName=DNS:front-envoy,DNS:localhost,IP:127.0.0.1' \
  -keyout "$key" -out "$crt" 2>/dev/null
chmod 644 "$crt"
echo "wrote $crt and $key"
