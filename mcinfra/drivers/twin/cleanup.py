"""Find and delete everything a twin region made, from its prefix alone.

Works without the state file (a killed test run, a deleted temp dir): namespaces, the
processes in them, freezer cgroups and the internet-side links all carry the region's
prefix. The shared internet goes too once no region is registered.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from mcinfra.drivers.twin import internet, netns
from mcinfra.drivers.twin.state import Region, registered_regions, unregister

#: namespaces the twin makes: <prefix>-<r|v|l><index>
NS_PATTERN = re.compile(r"^(t[a-z2-7]{4})-[rvl]\d+$")


@dataclass
class CleanupReport:
    namespaces: list[str] = field(default_factory=list)
    processes: int = 0
    cgroups: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    internet_removed: bool = False

    def merge(self, other: CleanupReport) -> None:
        self.namespaces += other.namespaces
        self.processes += other.processes
        self.cgroups += other.cgroups
        self.links += other.links
        self.files += other.files
        self.internet_removed = self.internet_removed or other.internet_removed

    @property
    def empty(self) -> bool:
        return not (self.namespaces or self.processes or self.cgroups or self.links or self.files)


def cleanup_prefix(prefix: str, state_dir: Path | None = None) -> CleanupReport:
    report = CleanupReport()
    cg_root = netns.cgroup_path("")
    if cg_root.is_dir():
        for cg in sorted(cg_root.iterdir()):
            if cg.is_dir() and cg.name.startswith(f"{prefix}-"):
                report.processes += len(netns.cgroup_pids(cg.name))
                netns.cgroup_kill(cg.name, remove=True)
                report.cgroups.append(cg.name)
    for ns in netns.netns_list():
        if ns.startswith(f"{prefix}-"):
            pids = netns.netns_pids(ns)
            report.processes += len(pids)
            netns.netns_delete(ns)
            report.namespaces.append(ns)
    if netns.netns_exists(internet.INET_NS):
        out = netns.ip("-o", "link", "show", ns=internet.INET_NS, check=False)
        for line in out.splitlines():
            parts = line.split(":")
            name = parts[1].strip().split("@")[0] if len(parts) > 1 else ""
            if name.startswith(prefix):
                netns.link_delete(name, internet.INET_NS)
                report.links.append(name)
    entry = registered_regions().get(prefix)
    if entry and entry.get("block") and netns.link_exists(internet.HOST_LINK):
        internet.forget_neighbors(str(entry["block"]))
    dirs = [state_dir] if state_dir else []
    if entry and entry.get("state_dir"):
        dirs.append(Path(entry["state_dir"]))
    for d in dict.fromkeys(dirs):
        if d is not None and d.exists():
            shutil.rmtree(d, ignore_errors=True)
            report.files.append(str(d))
    unregister(prefix)
    report.internet_removed = internet.remove_if_unused()
    return report


def cleanup_region(region: str, state_dir: Path | None = None) -> CleanupReport:
    """Delete a region (by name and state dir, as a connection names it) and its state dir."""
    reg = Region(region, state_dir)
    return cleanup_prefix(reg.prefix, reg.dir)


def leftovers(prefix: str) -> CleanupReport:
    """What of a region is still on the host (nothing is deleted)."""
    report = CleanupReport()
    report.namespaces = [ns for ns in netns.netns_list() if ns.startswith(f"{prefix}-")]
    cg_root = netns.cgroup_path("")
    if cg_root.is_dir():
        report.cgroups = [cg.name for cg in cg_root.iterdir() if cg.is_dir() and cg.name.startswith(f"{prefix}-")]
        report.processes = sum(len(netns.cgroup_pids(c)) for c in report.cgroups)
    if netns.netns_exists(internet.INET_NS):
        out = netns.ip("-o", "link", "show", ns=internet.INET_NS, check=False)
        report.links = [
            ln.split(":")[1].strip().split("@")[0]
            for ln in out.splitlines()
            if len(ln.split(":")) > 1 and ln.split(":")[1].strip().startswith(prefix)
        ]
    if prefix in registered_regions():
        report.files.append(f"registry entry {prefix}")
    return report


def cleanup_all() -> CleanupReport:
    """Delete every twin region on this host (registered or found by name) and the internet."""
    prefixes = set(registered_regions())
    prefixes |= {m.group(1) for ns in netns.netns_list() if (m := NS_PATTERN.match(ns))}
    cg_root = netns.cgroup_path("")
    if cg_root.is_dir():
        prefixes |= {c.name.split("-")[0] for c in cg_root.iterdir() if NS_PATTERN.match(c.name)}
    report = CleanupReport()
    for prefix in sorted(prefixes):
        report.merge(cleanup_prefix(prefix))
    report.internet_removed = internet.remove_if_unused() or report.internet_removed
    if cg_root.is_dir():
        with contextlib.suppress(OSError):
            cg_root.rmdir()
    return report
