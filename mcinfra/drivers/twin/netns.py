"""Thin wrappers over ``ip``, ``nft`` and processes, turning failures into ``CloudError``.

Every kernel change the twin makes goes through :func:`run`, the driver's one choke point:
it records each call (command head, duration, outcome) in :data:`HISTORY`, and a failing
command raises ``CloudError("twin", <code>, <stderr>)`` naming what was run.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from mcinfra.core.errors import CloudError

PROVIDER = "twin"
FREEZER_ROOT = Path("/sys/fs/cgroup/freezer")
CGROUP_DIR = "mcinfra-twin"

#: Last calls made to the kernel: (command head, seconds, ok). Never holds secrets (keys go by file).
HISTORY: collections.deque[tuple[str, float, bool]] = collections.deque(maxlen=500)

#: the VM's NIC inside its namespace (its security groups filter this link only)
VM_LINK = "eth0"


class TwinCommandError(CloudError):
    def __init__(self, code: str, message: str, *, returncode: int = 0, stderr: str = "") -> None:
        super().__init__(PROVIDER, code, message)
        self.returncode = returncode
        self.stderr = stderr


def run(
    cmd: Sequence[str],
    *,
    input: str | None = None,
    check: bool = True,
    timeout: float = 60,
    code: str = "CommandFailed",
) -> subprocess.CompletedProcess[str]:
    head = " ".join(cmd[:6])
    start = time.monotonic()
    try:
        proc = subprocess.run(list(cmd), input=input, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        HISTORY.append((head, time.monotonic() - start, False))
        raise TwinCommandError("MissingTool", f"{cmd[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        HISTORY.append((head, time.monotonic() - start, False))
        raise TwinCommandError("Timeout", f"'{head}' did not finish in {timeout}s") from exc
    ok = proc.returncode == 0
    HISTORY.append((head, time.monotonic() - start, ok))
    if check and not ok:
        err = (proc.stderr or proc.stdout).strip()
        raise TwinCommandError(
            code, f"'{head}' failed ({proc.returncode}): {err}", returncode=proc.returncode, stderr=err
        )
    return proc


def ip(*args: str, ns: str | None = None, check: bool = True) -> str:
    cmd = ["ip", *(["-n", ns] if ns else []), *args]
    return run(cmd, check=check).stdout


def ns_exec(ns: str, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run(["ip", "netns", "exec", ns, *cmd], check=check, timeout=timeout)


def nft(ns: str, script: str) -> None:
    """Load an nft script atomically in a namespace (the whole script or nothing)."""
    run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script, code="NftFailed")


def sysctl(ns: str, key: str, value: str) -> None:
    ns_exec(ns, "sysctl", "-q", "-w", f"{key}={value}")


# ---------------------------------------------------------------- namespaces and links
def netns_list() -> list[str]:
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def netns_add(name: str) -> None:
    run(["ip", "netns", "add", name], code="NetnsFailed")
    ip("link", "set", "lo", "up", ns=name)


def netns_delete(name: str) -> None:
    if not netns_exists(name):
        return
    kill_pids(netns_pids(name))
    run(["ip", "netns", "delete", name], check=False)


def netns_pids(name: str) -> list[int]:
    if not netns_exists(name):
        return []
    out = run(["ip", "netns", "pids", name], check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def veth_pair(a: str, a_ns: str | None, b: str, b_ns: str | None) -> None:
    """Create a veth pair with end ``a`` in ``a_ns`` and ``b`` in ``b_ns`` (None: the host)."""
    cmd = ["link", "add", a]
    if a_ns:
        cmd += ["netns", a_ns]
    cmd += ["type", "veth", "peer", "name", b]
    if b_ns:
        cmd += ["netns", b_ns]
    ip(*cmd)


def link_exists(name: str, ns: str | None = None) -> bool:
    return run(["ip", *(["-n", ns] if ns else []), "link", "show", name], check=False).returncode == 0


def link_delete(name: str, ns: str | None = None) -> None:
    if link_exists(name, ns):
        ip("link", "delete", name, ns=ns, check=False)


# ---------------------------------------------------------------- processes and freezer
def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_pids(pids: Iterable[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def cgroup_path(name: str) -> Path:
    return FREEZER_ROOT / CGROUP_DIR / name


def cgroup_create(name: str) -> Path:
    path = cgroup_path(name)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TwinCommandError("CgroupFailed", f"cannot create freezer cgroup {path}: {exc}") from exc
    return path


def cgroup_pids(name: str) -> list[int]:
    try:
        text = (cgroup_path(name) / "cgroup.procs").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cgroup_freeze(name: str, frozen: bool) -> None:
    path = cgroup_path(name) / "freezer.state"
    want = "FROZEN" if frozen else "THAWED"
    try:
        path.write_text(want)
        for _ in range(200):
            if path.read_text().strip() == want:
                return
            time.sleep(0.01)
    except OSError as exc:
        raise TwinCommandError("CgroupFailed", f"cannot set {path} to {want}: {exc}") from exc
    raise TwinCommandError("CgroupFailed", f"{path} did not reach {want}")


def cgroup_frozen(name: str) -> bool:
    try:
        return (cgroup_path(name) / "freezer.state").read_text().strip() != "THAWED"
    except OSError:
        return False


def cgroup_kill(name: str, *, remove: bool = True) -> None:
    """Kill every process of the cgroup (thawing it first so SIGKILL is delivered)."""
    path = cgroup_path(name)
    if not path.exists():
        return
    if cgroup_frozen(name):
        cgroup_freeze(name, False)
    for _ in range(100):
        pids = cgroup_pids(name)
        if not pids:
            break
        kill_pids(pids)
        time.sleep(0.02)
    if remove:
        for _ in range(50):
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def missing_tools() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for tool, label in (("ip", "iproute2 (ip)"), ("nft", "nftables (nft)"), ("unshare", "util-linux")):
        if shutil.which(tool) is None:
            missing.append(label)
    if not Path("/usr/sbin/sshd").exists() and shutil.which("sshd") is None:
        missing.append("openssh-server (sshd)")
    if not FREEZER_ROOT.is_dir():
        missing.append(f"cgroup v1 freezer at {FREEZER_ROOT}")
    return missing


def sshd_path() -> str:
    return shutil.which("sshd") or "/usr/sbin/sshd"


def unavailable() -> str | None:
    """Why the twin cannot run on this host (missing tools, no netns), or None."""
    missing = missing_tools()
    if missing:
        return f"the twin needs {', '.join(missing)}"
    probe = f"mctwin-probe-{os.getpid()}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"cannot create a network namespace: {done.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True, check=False)
    return None
