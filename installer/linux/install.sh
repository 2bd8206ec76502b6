#!/usr/bin/env bash
# Install, upgrade in place, or remove the Laser Trim Analyzer Edge station agent
# on Linux. The guide for IT is docs/install.md; `install.sh --help` lists the
# options.
#
# Where things go (a real install, as root):
#   /opt/lta-agent/              the one-folder app (replaced on upgrade)
#   /usr/local/bin/lta-agent     link to it
#   /etc/lta-agent/agent.toml    the config IT edits (written once, never overwritten)
#   /var/lib/lta-agent/          data: store, outbox, logs/, kernel-cache/ (never touched)
#   /etc/systemd/system/lta-agent.service, run as the system user lta-agent
#
# --root DIR puts all of that under DIR instead, with every path in the config
# and the unit pointing inside DIR, and creates no user and runs no systemctl:
# a self-contained tree for tests and for trying the agent out.
set -euo pipefail

SERVICE=lta-agent
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    cat <<'EOF'
Usage: install.sh [options]            install, or upgrade in place
       install.sh --uninstall [--purge] remove the app (data and config kept unless --purge)

Options for a first install (an upgrade keeps the existing config file):
  --inbox DIR          folder the trim station saves its result files into
  --central-url URL    address of the central service, e.g. https://lta.example.com
  --token TOKEN        this station's token (or set LTA_AGENT_CENTRAL_TOKEN, which
                       keeps it out of the process list)
  --station-id ID      station id (default: the host name, lowercased)
  --bind HOST:PORT     address of the station page (default 127.0.0.1:8710)
Other options:
  --app DIR            the one-folder app to install (default: ./lta-agent beside
                       this script, else the repository's build/out/lta-agent)
  --user NAME          service account (default lta-agent)
  --no-systemd         install the files only: no systemctl (containers, tests)
  --root DIR           install under DIR with paths inside it; implies --no-systemd
                       and creates no user (tests, trying it out)
  -h, --help           this text
EOF
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

ACTION=install
PURGE=0
SYSTEMD=1
ROOT=/
APP_SRC=""
INBOX=""
CENTRAL_URL=""
TOKEN="${LTA_AGENT_CENTRAL_TOKEN:-}"
STATION_ID=""
BIND=""
SVC_USER=lta-agent

while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) ACTION=uninstall ;;
        --purge) PURGE=1 ;;
        --no-systemd) SYSTEMD=0 ;;
        --root) ROOT="${2:?--root needs a folder}"; shift ;;
        --app) APP_SRC="${2:?--app needs a folder}"; shift ;;
        --inbox) INBOX="${2:?--inbox needs a folder}"; shift ;;
        --central-url) CENTRAL_URL="${2:?--central-url needs an address}"; shift ;;
        --token) TOKEN="${2:?--token needs a value}"; shift ;;
        --station-id) STATION_ID="${2:?--station-id needs a value}"; shift ;;
        --bind) BIND="${2:?--bind needs host:port}"; shift ;;
        --user) SVC_USER="${2:?--user needs a name}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
    shift
done

mkdir -p "$ROOT"
ROOT="$(cd "$ROOT" && pwd)"
REAL=1 # a real install on this machine's own folders
if [ "$ROOT" != "/" ]; then
    REAL=0
    SYSTEMD=0
fi
under() { printf '%s%s' "${ROOT%/}" "$1"; }
APP_DIR="$(under /opt/lta-agent)"
LINK="$(under /usr/local/bin/lta-agent)"
CONF_DIR="$(under /etc/lta-agent)"
CONF="$CONF_DIR/agent.toml"
DATA_DIR="$(under /var/lib/lta-agent)"
UNIT="$(under /etc/systemd/system/$SERVICE.service)"

if [ "$REAL" = 1 ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or try it as this user with --root DIR"
fi
if [ "$SYSTEMD" = 1 ] && ! command -v systemctl >/dev/null; then
    die "systemctl not found: this system does not use systemd; use --no-systemd and start
'$APP_DIR/lta-agent run --config $CONF' with your service manager"
fi

systemctl_quiet() { systemctl "$@" >/dev/null 2>&1; }

# --------------------------------------------------------------------------- uninstall
if [ "$ACTION" = uninstall ]; then
    if [ "$SYSTEMD" = 1 ]; then
        systemctl_quiet disable --now "$SERVICE" || true
    fi
    rm -f "$UNIT" "$LINK"
    [ "$SYSTEMD" = 1 ] && systemctl daemon-reload
    rm -rf "$APP_DIR" "$APP_DIR.new" "$APP_DIR.old"
    if [ "$PURGE" = 1 ]; then
        rm -rf "$CONF_DIR" "$DATA_DIR"
        if [ "$REAL" = 1 ] && id "$SVC_USER" >/dev/null 2>&1; then
            userdel "$SVC_USER" >/dev/null 2>&1 || true
        fi
        echo "Removed the agent, its config ($CONF_DIR) and its data ($DATA_DIR)."
    else
        echo "Removed the agent. Kept the config in $CONF_DIR and the data (store, outbox,"
        echo "logs) in $DATA_DIR; install again to go on with them, or remove them with"
        echo "install.sh --uninstall --purge."
    fi
    exit 0
fi

# --------------------------------------------------------------------------- install
if [ -z "$APP_SRC" ]; then
    if [ -x "$HERE/lta-agent/lta-agent" ]; then
        APP_SRC="$HERE/lta-agent"
    else
        APP_SRC="$HERE/../../build/out/lta-agent"
    fi
fi
[ -x "$APP_SRC/lta-agent" ] || die "no app in $APP_SRC (expected $APP_SRC/lta-agent; run make build, or pass --app DIR)"
APP_SRC="$(cd "$APP_SRC" && pwd)"
VERSION="$("$APP_SRC/lta-agent" --version)" || die "$APP_SRC/lta-agent does not run on this machine"
UNIT_TEMPLATE="$HERE/lta-agent.service"
[ -f "$UNIT_TEMPLATE" ] || die "the unit template $UNIT_TEMPLATE is missing"

# Values go into the config as TOML literal strings ('...'), which cannot hold ' or newlines.
for value in "$INBOX" "$CENTRAL_URL" "$TOKEN" "$STATION_ID" "$BIND"; do
    case "$value" in
        *"'"* | *$'\n'* | *$'\r'*) die "a value contains a quote or a line break: $value" ;;
    esac
done
if [ -n "$INBOX" ]; then
    case "$INBOX" in /*) ;; *) INBOX="$(pwd)/$INBOX" ;; esac
fi

if [ "$REAL" = 1 ]; then
    OWNER="$SVC_USER"
    if ! id "$SVC_USER" >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/lta-agent --no-create-home \
            --shell /usr/sbin/nologin --comment "Laser Trim Analyzer Edge agent" "$SVC_USER"
        echo "Created the system user $SVC_USER."
    fi
else
    OWNER="$(id -un)"
fi
GROUP="$(id -gn "$OWNER")"

UPGRADE=0
[ -d "$APP_DIR" ] && UPGRADE=1
if [ "$SYSTEMD" = 1 ] && [ "$UPGRADE" = 1 ]; then
    systemctl_quiet stop "$SERVICE" || true
fi

# The app: copied beside the old one, then swapped, so a failed copy leaves the old app.
mkdir -p "$(dirname "$APP_DIR")" "$(dirname "$LINK")"
rm -rf "$APP_DIR.new" "$APP_DIR.old"
cp -a "$APP_SRC" "$APP_DIR.new"
[ "$REAL" = 1 ] && chown -R root:root "$APP_DIR.new"
chmod -R go-w "$APP_DIR.new"
[ -d "$APP_DIR" ] && mv "$APP_DIR" "$APP_DIR.old"
mv "$APP_DIR.new" "$APP_DIR"
rm -rf "$APP_DIR.old"
ln -sfn "$APP_DIR/lta-agent" "$LINK"

# Data: created once; its contents (store, outbox, logs, kernel cache) are never touched.
mkdir -p "$DATA_DIR"
chown "$OWNER:$GROUP" "$DATA_DIR"
chmod 0750 "$DATA_DIR"

# Config: written on the first install only; it may hold the token, so root and the
# service account may read it, nobody else.
set_key() { # section key value-as-TOML: put "key = value" right under [section]
    local tmp="$CONF.tmp"
    # Through the environment, not awk -v, which would interpret backslashes in the value.
    SECTION="[$1]" LINE="$2 = $3" awk '
        { print }
        $0 == ENVIRON["SECTION"] && !done { print ENVIRON["LINE"]; done = 1 }
    ' "$CONF" >"$tmp"
    mv "$tmp" "$CONF"
}
mkdir -p "$CONF_DIR"
if [ ! -f "$CONF" ]; then
    "$APP_DIR/lta-agent" init-config "$CONF" >/dev/null
    set_key storage data_dir "'$DATA_DIR'"
    [ -n "$INBOX" ] && set_key inbox paths "['$INBOX']"
    [ -n "$STATION_ID" ] && set_key station id "'$STATION_ID'"
    [ -n "$BIND" ] && set_key web bind "'$BIND'"
    [ -n "$CENTRAL_URL" ] && set_key central url "'$CENTRAL_URL'"
    [ -n "$TOKEN" ] && set_key central token "'$TOKEN'"
    CONFIG_NOTE="Wrote $CONF."
else
    CONFIG_NOTE="Kept $CONF as it is."
    if [ -n "$INBOX$CENTRAL_URL$TOKEN$STATION_ID$BIND" ]; then
        CONFIG_NOTE="$CONFIG_NOTE The values given on the command line were not applied: edit it."
    fi
fi
chown "root:$GROUP" "$CONF_DIR" "$CONF" 2>/dev/null || chown "$OWNER:$GROUP" "$CONF_DIR" "$CONF"
chmod 0750 "$CONF_DIR"
chmod 0640 "$CONF"

# The unit. The folders it may write: the data folder and the inbox (for
# inbox.archive_dir); an upgrade keeps the ones the previous unit had.
READ_WRITE="-$DATA_DIR"
[ -n "$INBOX" ] && READ_WRITE="$READ_WRITE -$INBOX"
if [ -z "$INBOX" ] && [ -f "$UNIT" ]; then
    previous="$(sed -n 's/^ReadWritePaths=//p' "$UNIT" | head -n 1)"
    [ -n "$previous" ] && READ_WRITE="$previous"
fi
mkdir -p "$(dirname "$UNIT")"
sed -e "s|@APP_DIR@|$APP_DIR|g" -e "s|@CONFIG@|$CONF|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
    -e "s|@USER@|$OWNER|g" -e "s|@READ_WRITE_PATHS@|$READ_WRITE|g" \
    "$UNIT_TEMPLATE" >"$UNIT.tmp"
mv "$UNIT.tmp" "$UNIT"
chmod 0644 "$UNIT"

if [ "$SYSTEMD" = 1 ]; then
    systemctl daemon-reload
    systemctl enable "$SERVICE" >/dev/null 2>&1
    systemctl restart "$SERVICE"
    STARTED="Started $SERVICE (systemctl status $SERVICE; journalctl -u $SERVICE)."
else
    STARTED="Start it with: $APP_DIR/lta-agent run --config $CONF"
fi

if [ "$UPGRADE" = 1 ]; then
    echo "Upgraded the agent in $APP_DIR to $VERSION; the store and outbox in $DATA_DIR are kept."
else
    echo "Installed $VERSION in $APP_DIR."
fi
echo "$CONFIG_NOTE"
echo "$STARTED"
echo "Check the station with: $LINK doctor --config $CONF"
