"""The inside of a twin VM: its private /etc, /home, /run and /tmp views and its sshd "init".

A VM's processes live in its network namespace, in a mount namespace of their own and in a
freezer cgroup. The init script (run through ``ip netns exec ... unshare --mount --uts``)
lays an overlay over /etc whose upper layer is the VM's ``etc-upper`` directory (so files a
VM writes to /etc -- /etc/wireguard/wg0.conf -- are its own), binds the VM's home over
/home, mounts fresh tmpfs on /run and /tmp, then execs sshd. SSH sessions are sshd's
children, so they land in the same views and the same cgroup.

cb-user logs in as uid 0: a twin VM shares the host's kernel and userland, and the host may
have no ``sudo``; a pass-through ``sudo`` laid over /usr/local/bin keeps scripts written for
a cloud VM ("sudo wg ...") working unchanged.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from mcinfra.drivers.twin import netns

VM_USER = "cb-user"
SSH_PORT = 22
BOOT_TIMEOUT = 15.0

SUDO_SHIM = """#!/bin/sh
# twin VMs log cb-user in as uid 0, so sudo only drops its own options
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-C|-h|-p|-r|-t|-U|-D) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && exit 0
exec env "$@"
"""

SSHD_CONFIG = """Port {port}
ListenAddress 0.0.0.0
HostKey /etc/ssh/twin_host_ed25519_key
PermitRootLogin prohibit-password
AllowUsers {user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes no
UsePAM no
UseDNS no
PidFile none
PrintMotd no
Subsystem sftp internal-sftp
AcceptEnv LANG LC_*
"""


def _host_key() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public


def prepare(vm_dir: Path, hostname: str, public_key: str) -> str:
    """Write the VM's disk (its /etc upper layer, home, sudo shim); returns its host public key."""
    upper = vm_dir / "etc-upper"
    (upper / "ssh").mkdir(parents=True, exist_ok=True)
    (vm_dir / "etc-work").mkdir(exist_ok=True)
    passwd = Path("/etc/passwd").read_text()
    passwd = "".join(f"{line}\n" for line in passwd.splitlines() if not line.startswith(f"{VM_USER}:"))
    (upper / "passwd").write_text(passwd + f"{VM_USER}:x:0:0:{VM_USER}:/home/{VM_USER}:/bin/bash\n")
    try:
        shadow = Path("/etc/shadow").read_text()
    except OSError:
        shadow = ""
    # the host's password hashes stay on the host: every account of the VM's copy is locked
    shadow = "".join(
        ":".join([f[0], "*", *f[2:]]) + "\n"
        for f in (line.split(":") for line in shadow.splitlines())
        if len(f) > 2 and f[0] != VM_USER
    )
    (upper / "shadow").write_text(shadow + f"{VM_USER}:*:19000:0:99999:7:::\n")
    (upper / "shadow").chmod(0o640)
    (upper / "hostname").write_text(hostname + "\n")
    (upper / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n::1 localhost\n")
    (upper / "ssh" / "sshd_config_twin").write_text(SSHD_CONFIG.format(port=SSH_PORT, user=VM_USER))
    private, public = _host_key()
    key_file = upper / "ssh" / "twin_host_ed25519_key"
    key_file.write_bytes(private)
    key_file.chmod(0o600)
    (upper / "ssh" / "twin_host_ed25519_key.pub").write_bytes(public + b"\n")
    ssh_dir = vm_dir / "home" / VM_USER / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    ssh_dir.chmod(0o700)
    auth = ssh_dir / "authorized_keys"
    auth.write_text(public_key.strip() + "\n")
    auth.chmod(0o600)
    (vm_dir / "bin").mkdir(exist_ok=True)
    shim = vm_dir / "bin" / "sudo"
    shim.write_text(SUDO_SHIM)
    shim.chmod(0o755)
    return public.decode()


def _init_script(vm_dir: Path, hostname: str) -> str:
    d = shlex.quote(str(vm_dir))
    return "\n".join(
        [
            "set -e",
            f"mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/etc-upper,workdir={d}/etc-work /etc",
            f"mount --bind {d}/home /home",
            f"mount -t overlay overlay -o lowerdir={d}/bin:/usr/local/bin /usr/local/bin",
            "mount -t tmpfs -o mode=755 tmpfs /run",
            "mkdir -p /run/sshd /run/wireguard",
            "mount -t tmpfs -o mode=1777 tmpfs /tmp",
            f"hostname {shlex.quote(hostname)}",
            f"exec {shlex.quote(netns.sshd_path())} -D -e -f /etc/ssh/sshd_config_twin",
        ]
    )


def _listening(pid: int, port: int) -> bool:
    want = f":{port:04X}"
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            return False
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[1].endswith(want) and fields[3] == "0A":
                return True
    return False


def boot(vm: dict[str, Any], vm_dir: Path) -> int:
    """Start the VM's init (sshd) detached from this process; wait until sshd listens."""
    cg = netns.cgroup_create(vm["ns"])
    pid_file = vm_dir / "init.pid"
    pid_file.unlink(missing_ok=True)
    log = vm_dir / "console.log"
    wrapper = 'echo $$ > "$1/cgroup.procs" && echo $$ > "$2" && shift 2 && exec "$@"'
    cmd = [
        "setsid",
        "-f",
        "sh",
        "-c",
        wrapper,
        "sh",
        str(cg),
        str(pid_file),
        "ip",
        "netns",
        "exec",
        vm["ns"],
        "unshare",
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "sh",
        "-c",
        _init_script(vm_dir, vm["name"]),
    ]
    with open(log, "ab") as out:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=True)
    deadline = time.monotonic() + BOOT_TIMEOUT
    pid = 0
    while time.monotonic() < deadline:
        if not pid and pid_file.exists():
            text = pid_file.read_text().strip()
            pid = int(text) if text.isdigit() else 0
        if pid:
            if not netns.pid_alive(pid):
                raise netns.TwinCommandError("BootFailed", f"VM {vm['name']}: sshd exited: {console_tail(vm_dir)}")
            if _listening(pid, SSH_PORT):
                return pid
        time.sleep(0.02)
    raise netns.TwinCommandError(
        "BootFailed", f"VM {vm['name']}: sshd not listening after {BOOT_TIMEOUT}s: {console_tail(vm_dir)}"
    )


def console_tail(vm_dir: Path, lines: int = 5) -> str:
    try:
        text = (vm_dir / "console.log").read_text(errors="replace")
    except OSError:
        return "(no console log)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(empty console log)"


def halt(vm: dict[str, Any], *, remove_cgroup: bool = False) -> None:
    netns.cgroup_kill(vm["ns"], remove=remove_cgroup)


def exec_argv(vm: dict[str, Any], argv: list[str], *, host_view: bool = False) -> list[str]:
    """The command line that runs ``argv`` inside the VM (its namespaces and cgroup), as root.

    ``host_view``: keep the host's files (enter only the VM's network and hostname), for host
    programs that live where the VM's private /home or /tmp would hide them (a venv's python).
    """
    cg = netns.cgroup_path(vm["ns"])
    wrapper = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
    return [
        "sh",
        "-c",
        wrapper,
        "sh",
        str(cg),
        "nsenter",
        "-t",
        str(vm["pid"]),
        *(["-u", "-n"] if host_view else ["-m", "-u", "-n"]),
        "--",
        "sh",
        "-c",
        'cd / && exec "$@"',
        "sh",
        *argv,
    ]


def exec_in(
    vm: dict[str, Any],
    argv: list[str],
    *,
    timeout: float = 60,
    check: bool = True,
    input: str | None = None,
    host_view: bool = False,
) -> subprocess.CompletedProcess[str]:
    return netns.run(exec_argv(vm, argv, host_view=host_view), timeout=timeout, check=check, input=input)


def spawn_in(vm: dict[str, Any], argv: list[str], *, host_view: bool = False) -> None:
    """Start a long-lived process in the VM, detached (it dies with the VM)."""
    subprocess.run(
        ["setsid", "-f", *exec_argv(vm, argv, host_view=host_view)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )


def remove_disk(vm_dir: Path) -> None:
    shutil.rmtree(vm_dir, ignore_errors=True)


def rss_kib(vm: dict[str, Any]) -> int:
    total = 0
    for pid in netns.cgroup_pids(vm["ns"]):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
