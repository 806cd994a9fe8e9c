"""SSH to the VMs (asyncssh) and the shell scripts CLADNet runs there.

Each remote step is one ``exec`` of ``sh -s`` with the script on stdin, as root (through
``sudo -n`` when the login user is not root). Host keys are pinned on first contact:
the first connection records the server's key; later ones accept only that key.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import VMInfo

Mode = Literal["auto", "kernel", "userspace"]
MODES = ("auto", "kernel", "userspace")
#: Where keys and configs live on the VM (0700 dir, 0600 files).
REMOTE_DIR = "/etc/wireguard"
#: ``ssh_keys``: {"<connection>/<keypair name>": PEM} or a callable (connection, VMInfo) -> PEM.
SSHKeys = Mapping[str, str | bytes] | Callable[[str, VMInfo], str | bytes | None]
ROOT_SHELL = 'if [ "$(id -u)" = 0 ]; then exec sh -s; else exec sudo -n sh -s; fi'
QUICK_ONLY_RE = "Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig"
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}\Z")
_PINGER = (Path(__file__).parent / "_pinger.py").read_text()


class RemoteError(Exception):
    """A remote step failed; the message is safe to show (no secrets)."""


@dataclass
class Target:
    key: str  # "<connection>/<vm>"
    host: str
    port: int
    user: str
    private_key: str | bytes = ""
    pinned_host_key: str | None = None


def ssh_key_for(ssh_keys: SSHKeys, connection: str, vm: VMInfo) -> str | bytes:
    pem = ssh_keys(connection, vm) if callable(ssh_keys) else ssh_keys.get(f"{connection}/{vm.keypair}")
    if not pem:
        raise RemoteError(
            f"no SSH private key for key pair {connection}/{vm.keypair} (pass it in ssh_keys)"
        )
    return pem


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InvalidRequest(f"mode {mode!r} is not one of {', '.join(MODES)}", field="mode")
    return mode


def check_ifname(name: str) -> str:
    if not _IFNAME.match(name):
        raise InvalidRequest(f"interface name {name!r} is invalid", field="interface")
    return name


#: Seconds an SSH connection is kept open after a call for the next one to reuse. Short on
#: purpose: a connection to a VM that stopped since would only fail by timing out.
POOL_IDLE = 10.0
_POOL: dict[tuple[str, int, str, str], list[tuple[Any, str, float]]] = {}


def _same_key(a: str, b: str) -> bool:
    return a.split()[:2] == b.split()[:2]


def _reap() -> None:
    now = time.monotonic()
    for key in list(_POOL):
        keep = []
        for conn, host_key, since in _POOL[key]:
            if now - since >= POOL_IDLE or conn.is_closed():
                conn.close()
            else:
                keep.append((conn, host_key, since))
        if keep:
            _POOL[key] = keep
        else:
            del _POOL[key]


class Session:
    """One SSH connection to one VM, counting the bytes sent to it."""

    def __init__(self, target: Target, conn: Any, host_key: str,
                 pool_key: tuple[str, int, str, str] | None = None, *, reused: bool = False,
                 connect_timeout: float = 15.0) -> None:
        self.target = target
        self.conn = conn
        self.host_key = host_key
        self.pool_key = pool_key
        self.reused = reused
        self.connect_timeout = connect_timeout
        self.bytes_sent = 0

    async def run(self, script: str, *, timeout: float = 60.0) -> str:
        import asyncssh

        self.bytes_sent += len(ROOT_SHELL) + len(script.encode())
        try:
            result = await self.conn.run(ROOT_SHELL, input=script, check=False, timeout=timeout)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            if self.reused and not isinstance(exc, TimeoutError):
                # a pooled connection the VM dropped meanwhile (reboot...): one fresh try
                self.reused = False
                self.conn.close()
                fresh = await open_session(self.target, connect_timeout=self.connect_timeout, pooled=False)
                self.conn, self.host_key = fresh.conn, fresh.host_key
                return await self.run(script, timeout=timeout)
            raise RemoteError(f"{self.target.key}: {type(exc).__name__}: {exc}") from exc
        if result.exit_status != 0:
            err = str(result.stderr or "").strip().splitlines()
            detail = err[-1] if err else f"exit status {result.exit_status}"
            raise RemoteError(f"{self.target.key}: {detail}")
        return str(result.stdout or "")

    def close(self) -> None:
        """Back to the pool for ``POOL_IDLE`` seconds (closed after)."""
        if self.pool_key is None or self.conn.is_closed():
            self.conn.close()
            return
        import asyncio

        _POOL.setdefault(self.pool_key, []).append((self.conn, self.host_key, time.monotonic()))
        asyncio.get_running_loop().call_later(POOL_IDLE + 0.5, _reap)


async def open_session(target: Target, *, connect_timeout: float = 15.0, pooled: bool = True) -> Session:
    """Connect, pinning the host key on first use and enforcing the pin after."""
    import asyncssh

    try:
        client_key = asyncssh.import_private_key(target.private_key)
    except (asyncssh.KeyImportError, ValueError, TypeError) as exc:
        raise RemoteError(f"{target.key}: the SSH private key given cannot be read") from exc
    pool_key = (target.host, target.port, target.user, client_key.get_fingerprint())
    _reap()
    while pooled and _POOL.get(pool_key):
        conn, host_key, _ = _POOL[pool_key].pop()
        if conn.is_closed():
            continue
        if target.pinned_host_key and not _same_key(host_key, target.pinned_host_key):
            conn.close()
            raise RemoteError(_mismatch(target))
        return Session(target, conn, host_key, pool_key, reused=True, connect_timeout=connect_timeout)
    if target.pinned_host_key:
        known: Any = ([asyncssh.import_public_key(target.pinned_host_key)], [], [])
    else:
        known = None
    conn: Any = None
    # One retry on a timeout only: a stall (a host under load, a stale ARP entry) is worth a
    # second try; refused or unreachable is not.
    for attempt in (1, 2):
        try:
            conn = await _connect(target, client_key, known, connect_timeout)
            break
        except TimeoutError:
            if attempt == 2:
                raise RemoteError(f"{target.key}: cannot SSH to {target.host}:{target.port}: "
                                  f"timed out twice after {connect_timeout:.0f} s") from None
    server_key = conn.get_server_host_key()
    host_key = server_key.export_public_key("openssh").decode().strip() if server_key else ""
    return Session(target, conn, host_key, pool_key, connect_timeout=connect_timeout)


def _mismatch(target: Target) -> str:
    return (f"{target.key}: host key of {target.host} does not match the key pinned at first "
            "deploy (VM replaced, or a man in the middle); after checking, cladnet.repin() clears it")


async def _connect(target: Target, client_key: Any, known: Any, connect_timeout: float) -> Any:
    import asyncssh

    try:
        return await asyncssh.connect(
            target.host, target.port, username=target.user, client_keys=[client_key],
            known_hosts=known, connect_timeout=connect_timeout, agent_path=None,
            preferred_auth="publickey",
        )
    except TimeoutError:
        raise
    except asyncssh.HostKeyNotVerifiable as exc:
        raise RemoteError(_mismatch(target)) from exc
    except (asyncssh.Error, OSError) as exc:
        why = str(exc) or type(exc).__name__
        raise RemoteError(f"{target.key}: cannot SSH to {target.host}:{target.port}: {why}") from exc


# ----------------------------------------------------------------- scripts
def _q(s: str) -> str:
    return shlex.quote(s)


def keys_script(iface: str, remote_dir: str = REMOTE_DIR) -> str:
    """Make the key pair on the VM (once) and print only the public key."""
    d, k = _q(remote_dir), _q(f"{remote_dir}/{iface}.key")
    return f"""set -e
umask 077
command -v wg >/dev/null 2>&1 || {{ echo "wg (wireguard-tools) is not installed on the VM" >&2; exit 3; }}
mkdir -p {d}
[ -s {k} ] || wg genkey > {k}
chmod 600 {k}
wg pubkey < {k}
"""


def _bring_up(iface: str, mode: str) -> str:
    i = _q(iface)
    go = (f"wireguard-go {i} </dev/null >/dev/null 2>&1 || "
          f"{{ echo 'wireguard-go could not start {iface}' >&2; exit 4; }}")
    kernel = f"ip link add dev {i} type wireguard"
    if mode == "kernel":
        make = f"{kernel} || {{ echo 'no kernel WireGuard on the VM (use mode=userspace)' >&2; exit 4; }}"
    elif mode == "userspace":
        make = go
    else:
        make = f"{kernel} 2>/dev/null || {{ {go}; }}"
    # A wireguard-go that died leaves its socket; wg would then talk to nothing.
    return f"""if ! ip link show dev {i} >/dev/null 2>&1; then
  rm -f /var/run/wireguard/{i}.sock
  {make}
fi"""


def up_script(iface: str, config: str, address: str, mtu: int, mode: str,
              remote_dir: str = REMOTE_DIR) -> str:
    """Write the 0600 config, make the interface if missing, sync it (idempotent)."""
    i = _q(iface)
    base = f"{remote_dir}/{iface}"
    conf, key, sync = _q(base + ".conf"), _q(base + ".key"), _q(base + ".sync")
    # The syncconf input is made on the VM: the key is read by cat, never put in argv.
    strip = f"sed -E '1,/^\\[Interface\\]/d; /^({QUICK_ONLY_RE})[[:space:]]*=/d' {conf}"
    return f"""set -e
umask 077
mkdir -p {_q(remote_dir)}
[ -s {key} ] || {{ echo "no WireGuard key on the VM" >&2; exit 5; }}
cat > {conf}.new <<'CLADNET_EOF'
{config.rstrip()}
CLADNET_EOF
chmod 600 {conf}.new
mv -f {conf}.new {conf}
{_bring_up(iface, mode)}
{{ echo '[Interface]'; printf 'PrivateKey = '; cat {key}; {strip}; }} > {sync}
wg syncconf {i} {sync} || {{ rm -f {sync}; echo "wg syncconf failed" >&2; exit 6; }}
rm -f {sync}
printf 'address replace %s dev %s\nlink set dev %s mtu %s up\n' {_q(address)} {i} {i} {int(mtu)} | ip -4 -batch -
wg show {i} public-key
"""


def down_script(iface: str, *, purge: bool = False, remote_dir: str = REMOTE_DIR) -> str:
    i = _q(iface)
    lines = ["set -e", f"ip link del dev {i} 2>/dev/null || true", f"rm -f /var/run/wireguard/{i}.sock"]
    if purge:
        base = f"{remote_dir}/{iface}"
        lines.append("rm -f " + " ".join(_q(base + s) for s in (".key", ".conf", ".conf.new", ".sync")))
    return "\n".join(lines) + "\n"


def ping_script(ips: list[str], count: int, interval: float = 0.2, wait: int = 2) -> str:
    """Ping every IP at once; each result block is ``@@ <ip>`` + ping -q's summary.

    With python3 on the VM one process pings all (``_pinger.py``); else one ``ping`` per IP.
    """
    args = " ".join(["measure", str(int(count)), str(interval), str(int(wait)), *map(_q, ips)])
    fallback = [
        f"  ( o=$(ping -n -q -c {int(count)} -i {interval} -W {int(wait)} {_q(ip)} 2>&1); "
        f"printf '@@ %s\\n%s\\n' {_q(ip)} \"$o\" ) &"
        for ip in ips
    ]
    return _python_or(args, fallback)


def warm_script(ips: list[str], wait: float = 12, watch: list[str] | None = None) -> str:
    """Unmeasured echoes until each IP answers (up to ``wait`` s): brings the tunnels up.

    Per IP a block ``@@ <ip>`` + ``up <seconds>`` (how long it took) or ``no answer``.
    ``watch``: the peers that ping this one; pinged back if silent for 2 s (python3 only).
    """
    args = " ".join(["warm", "1", "0", f"{wait:g}", *map(_q, ips), *(_q(f"w:{ip}") for ip in watch or [])])
    # without python3: one ping per IP (sending each second until it answers), whole seconds
    fallback = [
        f"  ( s=$(date +%s); if ping -n -q -c 1 -w {max(1, round(wait))} {_q(ip)} >/dev/null 2>&1; "
        f"then r=\"up $(($(date +%s) - s))\"; else r='no answer'; fi; printf '@@ %s\\n%s\\n' {_q(ip)} \"$r\" ) &"
        for ip in ips
    ]
    return _python_or(args, fallback)


def handshakes_script(iface: str) -> str:
    """Per peer public key, the unix time of its latest WireGuard handshake (0 = none)."""
    return f"wg show {_q(iface)} latest-handshakes\n"


def _python_or(args: str, fallback: list[str]) -> str:
    return f"""if command -v python3 >/dev/null 2>&1; then
python3 -I -S - {args} <<'CLADNET_PY'
{_PINGER.rstrip()}
CLADNET_PY
else
{chr(10).join(fallback) or "  :"}
  wait
fi
"""


def dump_script(iface: str) -> str:
    return f"wg show {_q(iface)} dump\n"
