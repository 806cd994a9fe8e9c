"""A twin region's state: a JSON file in the region's state directory, under a file lock.

The twin cloud outlives the process that built it: the kernel objects (namespaces, links,
nft tables, processes) plus this directory are the cloud. Every process that opens the same
region (same name + same state directory) sees the same resources; ``fcntl`` locks keep
concurrent processes from interleaving writes.

Every kernel object of a region is named from a 5-character prefix derived from the region
name and its state directory, so two test runs (two temporary state dirs) never collide.
Public addresses: each region takes a /22 block of 198.18.0.0/15 (the benchmarking range);
blocks are handed out through a host-wide registry under ``/run/mcinfra-twin``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcinfra.core.errors import CloudError

PUBLIC_RANGE = ipaddress.ip_network("198.18.0.0/15")
#: 198.18.0.0/22 is the internet's own: the host's address is 198.18.0.1.
HOST_PUBLIC_IP = "198.18.0.1"
BLOCK_PREFIX = 22
REGISTRY = Path(os.environ.get("MCINFRA_TWIN_RUN", "/run/mcinfra-twin"))


def default_home() -> Path:
    return Path(os.environ.get("MCINFRA_HOME", str(Path.home() / ".mcinfra")))


def region_prefix(region: str, state_dir: Path) -> str:
    digest = hashlib.sha1(f"{region}\0{state_dir.resolve()}".encode()).digest()
    return "t" + base64.b32encode(digest).decode()[:4].lower()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def now() -> str:
    return datetime.now(UTC).isoformat()


def _empty(region: str, prefix: str) -> dict[str, Any]:
    return {
        "region": region,
        "prefix": prefix,
        "block": None,
        "counter": 0,
        "public_ips": {},
        "vpcs": {},
        "sgs": {},
        "keypairs": {},
        "vms": {},
        "nlbs": {},
    }


class Region:
    """Handle on one twin region's state; use ``with region.locked() as st:`` to read/write."""

    def __init__(self, name: str, state_dir: Path | None = None) -> None:
        self.name = name
        self.dir = Path(state_dir) if state_dir else default_home() / "twin" / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prefix = region_prefix(name, self.dir)
        self.file = self.dir / "state.json"
        self.lock_file = self.dir / "state.lock"

    # ---------------------------------------------------------------- state file
    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """Load the state under the lock; it is saved when the block exits without error."""
        with file_lock(self.lock_file):
            st = self._load()
            yield st
            self._save(st)

    def read(self) -> dict[str, Any]:
        with file_lock(self.lock_file):
            return self._load()

    def _load(self) -> dict[str, Any]:
        if not self.file.exists():
            return _empty(self.name, self.prefix)
        try:
            return json.loads(self.file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CloudError("twin", "StateCorrupt", f"cannot read {self.file}: {exc}") from exc

    def _save(self, st: dict[str, Any]) -> None:
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(st, indent=1, sort_keys=True))
        os.replace(tmp, self.file)

    # ---------------------------------------------------------------- naming
    def new_index(self, st: dict[str, Any]) -> int:
        st["counter"] += 1
        return int(st["counter"])

    def system_id(self, kind: str, index: int) -> str:
        return f"{kind}-{self.prefix}-{index}"

    def ns_name(self, letter: str, index: int) -> str:
        return f"{self.prefix}-{letter}{index}"

    def link_name(self, letter: str, index: int, end: str = "") -> str:
        name = f"{self.prefix}{letter}{index}{end}"
        if len(name) > 15:
            raise CloudError("twin", "NameTooLong", f"interface name {name!r} exceeds 15 characters")
        return name

    def vm_dir(self, vm_id: str) -> Path:
        return self.dir / "vms" / vm_id

    # ---------------------------------------------------------------- public addresses
    def block(self, st: dict[str, Any]) -> ipaddress.IPv4Network:
        if not st.get("block"):
            st["block"] = allocate_block(self.prefix, self.name, self.dir)
        return ipaddress.ip_network(st["block"])  # type: ignore[return-value]

    def allocate_public_ip(self, st: dict[str, Any], owner: str) -> str:
        used = st["public_ips"]
        for host in self.block(st).hosts():
            addr = str(host)
            if addr.endswith(".0") or addr.endswith(".255") or addr in used:
                continue
            if addr in st.get("released_ips", []):
                continue
            used[addr] = owner
            return addr
        # every address was used once: recycle the released ones
        released = st.get("released_ips", [])
        if released:
            addr = released.pop(0)
            used[addr] = owner
            return addr
        raise CloudError("twin", "NoPublicAddress", f"public block {st['block']} is exhausted")

    def release_public_ip(self, st: dict[str, Any], addr: str | None) -> None:
        if addr and st["public_ips"].pop(addr, None) is not None:
            # keep freed addresses out of use for a while, so a resumed VM gets a new one
            st.setdefault("released_ips", []).append(addr)


# ---------------------------------------------------------------- host-wide registry
def _registry_entries() -> dict[str, dict[str, Any]]:
    out = {}
    for f in (REGISTRY / "regions").glob("*.json"):
        with contextlib.suppress(OSError, json.JSONDecodeError):
            out[f.stem] = json.loads(f.read_text())
    return out


def allocate_block(prefix: str, region: str, state_dir: Path) -> str:
    with file_lock(REGISTRY / "registry.lock"):
        entries = _registry_entries()
        if prefix in entries:
            return str(entries[prefix]["block"])
        used = {e.get("block") for e in entries.values()}
        blocks = list(PUBLIC_RANGE.subnets(new_prefix=BLOCK_PREFIX))[1:]  # [0] is the internet's own
        free = [b for b in blocks if str(b) not in used]
        if not free:
            raise CloudError("twin", "NoPublicBlock", "every public block of 198.18.0.0/15 is in use")
        # a random free block: a block (and its addresses) is rarely reused right after a region left
        blk = random.choice(free)
        (REGISTRY / "regions").mkdir(parents=True, exist_ok=True)
        entry = {"block": str(blk), "region": region, "state_dir": str(state_dir.resolve())}
        (REGISTRY / "regions" / f"{prefix}.json").write_text(json.dumps(entry))
        return str(blk)


def registered_regions() -> dict[str, dict[str, Any]]:
    with file_lock(REGISTRY / "registry.lock"):
        return _registry_entries()


def unregister(prefix: str) -> None:
    with file_lock(REGISTRY / "registry.lock"), contextlib.suppress(FileNotFoundError):
        (REGISTRY / "regions" / f"{prefix}.json").unlink()
