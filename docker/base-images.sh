#!/bin/sh
# Builds the two base images docker/ needs, for a machine that reaches Debian's
# package mirror but no image registry (so neither node:20-bookworm-slim nor
# redis:7 can be pulled):
#
#   taskq-node:<key>   Debian bookworm (debootstrap --variant=minbase, security
#                      updates applied) + this machine's `node` (>= 20) and npm in
#                      /usr/local, user `node` (uid/gid 1000), as in node:*-bookworm-slim;
#                      with this machine's NODE_EXTRA_CA_CERTS when set (a TLS-
#                      intercepting egress proxy: `npm ci` in the build must trust it)
#   taskq-redis:<key>  the same Debian + Debian's redis-server, user `redis`,
#                      working directory /data (as in redis:7)
#
# <key> is the node version and a hash of this script, so an image is built
# again only when the recipe or the node it copies changes; an image whose tag
# exists is left as it is. Runs as root (debootstrap, chroot). Prints, last,
# two lines for the shell:
#   export TASKQ_NODE_IMAGE=taskq-node:<key>
#   export TASKQ_REDIS_IMAGE=taskq-redis:<key>
# so that `eval "$(docker/base-images.sh)"` sets both, for docker build's
# --build-arg and for docker/compose.yml. Progress goes to stderr.
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
# DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -eu

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

say() { printf 'base-images: %s\n' "$*" >&2; }

NODE_BIN="$(command -v node)" || { say "no node on PATH"; exit 1; }
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" -p 'process.versions.node')"
case "$NODE_VERSION" in
  [2-9][0-9].*) ;;
  *) say "node $NODE_VERSION at $NODE_BIN: taskq needs 20 or later"; exit 1 ;;
esac
NPM_DIR="$(dirname "$(readlink -f "$(command -v npm)")")/.."
NPM_DIR="$(readlink -f "$NPM_DIR")"
[ -f "$NPM_DIR/bin/npm-cli.js" ] || { say "no npm next to node ($NPM_DIR)"; exit 1; }

# The CA file given to node here, if any, goes into the node image as well.
EXTRA_CA="${NODE_EXTRA_CA_CERTS:-}"
if [ -n "$EXTRA_CA" ] && [ ! -r "$EXTRA_CA" ]; then say "NODE_EXTRA_CA_CERTS=$EXTRA_CA is not readable"; exit 1; fi

KEY="${NODE_VERSION}-bookworm-$(cat "$0" ${EXTRA_CA:+"$EXTRA_CA"} | sha256sum | cut -c1-12)"
NODE_IMAGE="taskq-node:$KEY"
REDIS_IMAGE="taskq-redis:$KEY"

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

if has_image "$NODE_IMAGE" && has_image "$REDIS_IMAGE"; then
  say "$NODE_IMAGE and $REDIS_IMAGE exist: nothing to build"
else
  [ "$(id -u)" = 0 ] || { say "building the base images needs root (debootstrap, chroot)"; exit 1; }
  command -v debootstrap >/dev/null || { say "debootstrap missing (apt-get install debootstrap)"; exit 1; }
  WORK="$(mktemp -d /var/tmp/taskq-base.XXXXXX)"
  trap 'rm -rf "$WORK"' EXIT INT TERM

  say "debootstrap --variant=minbase bookworm from $MIRROR"
  debootstrap --variant=minbase bookworm "$WORK/debian" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
  cat >"$WORK/debian/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
EOF
  # No service may start inside the chroot (redis-server's postinst would try).
  printf '#!/bin/sh\nexit 101\n' >"$WORK/debian/usr/sbin/policy-rc.d"
  chmod 755 "$WORK/debian/usr/sbin/policy-rc.d"
  apt_in() { # tree, apt-get arguments...: output to the log, shown on failure
    tree="$1"; shift
    DEBIAN_FRONTEND=noninteractive chroot "$tree" apt-get -q -o Dpkg::Use-Pty=0 "$@" >>"$WORK/apt.log" 2>&1 \
      || { tail -n 30 "$WORK/apt.log" >&2; exit 1; }
  }
  say "security updates"
  apt_in "$WORK/debian" update
  apt_in "$WORK/debian" upgrade -y

  # Two trees from one debootstrap: the redis one gets its package installed
  # while the lists are there; both are then stripped of apt's caches and docs.
  cp -a "$WORK/debian" "$WORK/redis"
  say "redis-server into the redis tree"
  apt_in "$WORK/redis" install -y --no-install-recommends redis-server
  mkdir -p "$WORK/redis/data"
  chroot "$WORK/redis" chown redis:redis /data

  say "node $NODE_VERSION ($NODE_BIN) and npm ($NPM_DIR) into the node tree"
  install -D -m 755 "$NODE_BIN" "$WORK/debian/usr/local/bin/node"
  mkdir -p "$WORK/debian/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$WORK/debian/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$WORK/debian/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$WORK/debian/usr/local/bin/npx"
  chroot "$WORK/debian" groupadd --gid 1000 node
  chroot "$WORK/debian" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  NODE_CHANGES=""
  if [ -n "$EXTRA_CA" ]; then
    say "NODE_EXTRA_CA_CERTS ($EXTRA_CA) into the node tree"
    install -D -m 644 "$EXTRA_CA" "$WORK/debian/usr/local/share/taskq/extra-ca-certs.pem"
    NODE_CHANGES="ENV NODE_EXTRA_CA_CERTS=/usr/local/share/taskq/extra-ca-certs.pem"
  fi
  env -u NODE_EXTRA_CA_CERTS chroot "$WORK/debian" /usr/local/bin/node -e 'process.exit(0)' \
    || { say "the copied node does not run in the Debian tree (missing libraries?)"; exit 1; }

  for tree in "$WORK/debian" "$WORK/redis"; do
    rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/cache/apt/*.bin \
      "$tree"/var/lib/apt/lists/* "$tree"/usr/share/doc/* "$tree"/usr/share/man/* \
      "$tree"/usr/share/info/* "$tree"/usr/share/locale/* "$tree"/var/log/*.log \
      "$tree"/usr/sbin/policy-rc.d
    : >"$tree/etc/resolv.conf"; : >"$tree/etc/hostname"
  done

  PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  say "docker import $NODE_IMAGE"
  tar -C "$WORK/debian" --numeric-owner -cf - . | docker import \
    --change "$PATH_ENV" ${NODE_CHANGES:+--change "$NODE_CHANGES"} --change 'CMD ["node"]' \
    --message "taskq: debootstrap bookworm minbase + node $NODE_VERSION" - "$NODE_IMAGE" >/dev/null
  say "docker import $REDIS_IMAGE"
  tar -C "$WORK/redis" --numeric-owner -cf - . | docker import \
    --change "$PATH_ENV" --change 'WORKDIR /data' --change 'USER redis' --change 'EXPOSE 6379' \
    --change 'CMD ["redis-server", "--protected-mode", "no"]' \
    --message "taskq: debootstrap bookworm minbase + redis-server" - "$REDIS_IMAGE" >/dev/null
  # Tags of earlier recipes go (images still used by others stay until those go).
  for old in $(docker images --format '{{.Repository}}:{{.Tag}}' taskq-node) $(docker images --format '{{.Repository}}:{{.Tag}}' taskq-redis); do
    if [ "$old" != "$NODE_IMAGE" ] && [ "$old" != "$REDIS_IMAGE" ]; then
      say "removing the earlier $old"
      docker rmi "$old" >/dev/null || true
    fi
  done
fi

echo "export TASKQ_NODE_IMAGE=$NODE_IMAGE"
echo "export TASKQ_REDIS_IMAGE=$REDIS_IMAGE"
