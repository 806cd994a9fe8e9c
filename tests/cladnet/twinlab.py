"""A small twin lab for CLADNet end-to-end tests and the bench.

Two twin connections (two regions) whose VPCs use the same CIDRs (10.0.0.0/16 with
subnet 10.0.1.0/24 in both), SSH and ICMP open, WireGuard's UDP port left closed so that
the SG check has something to report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcinfra
from mcinfra import SecurityRule, SubnetReq


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "CLADNet e2e needs root (network namespaces)"
    for tool in ("ip", "nft", "sshd", "wg", "wireguard-go", "ping", "unshare"):
        if not shutil.which(tool):
            return f"CLADNet e2e needs {tool}"
    if not Path("/dev/net/tun").exists():
        return "CLADNet e2e needs /dev/net/tun (wireguard-go)"
    if not Path("/var/run/netns").exists() and os.system("ip netns list >/dev/null 2>&1") != 0:
        return "CLADNet e2e needs network namespaces"
    return None


@dataclass
class Lab:
    infra: Any
    connections: list[str]
    vms: list[str] = field(default_factory=list)  # "conn/vm"
    ssh_keys: dict[str, str] = field(default_factory=dict)
    tag: str = ""


def _flush_host_neighbours() -> None:
    """Forget the host's ARP entries towards the twin internet.

    Public addresses are reused by the next region made (other tests, other runs) behind a
    router with a new MAC; a stale entry black-holes the first SYNs for ~8 s (DELAY+PROBE)
    and the SYN retransmitted at 15 s then meets the SSH connect timeout.
    """
    from mcinfra.drivers.twin.internet import HOST_LINK

    subprocess.run(["ip", "neigh", "flush", "dev", HOST_LINK], check=False, capture_output=True)


@contextmanager
def twin_lab(vms_per_region: tuple[int, ...] = (3, 2), *, rule_ssh_only: bool = True) -> Iterator[Lab]:
    from mcinfra.drivers.twin.cleanup import cleanup_region

    tag = uuid.uuid4().hex[:5]
    home = Path(tempfile.mkdtemp(prefix="cladnet-lab-"))
    infra = mcinfra.Infra(f"sqlite:///{home / 'mcinfra.db'}")
    lab = Lab(infra, [], tag=tag)
    regions: list[tuple[str, Path]] = []
    try:
        for r, count in enumerate(vms_per_region):
            conn, region = f"tw{r}", f"cl{tag}r{r}"
            state_dir = home / f"twin-{r}"
            regions.append((region, state_dir))
            infra.regions.add(conn, provider="twin", region=region)
            infra.connections.add(conn, region=conn, options={"state_dir": str(state_dir)})
            lab.connections.append(conn)
            cloud = infra.connect(conn)
            cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16",
                              subnets=[SubnetReq(name="sn-01", cidr="10.0.1.0/24")])
            # SSH only: the overlay (wg0) is not behind the SG, as on a real cloud
            rules = [SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)]
            if not rule_ssh_only:
                rules.append(SecurityRule(direction="inbound", protocol="ALL"))
            cloud.security_groups.create("sg-01", vpc="vpc-01", rules=rules)
            key = cloud.keypairs.create("key-01")
            assert key.private_key
            lab.ssh_keys[f"{conn}/key-01"] = key.private_key
            for i in range(count):
                name = f"vm-{i:02d}"
                cloud.vms.start(name, image="ubuntu-22.04", spec="twin.nano", vpc="vpc-01", subnet="sn-01",
                                security_groups=["sg-01"], keypair="key-01")
                lab.vms.append(f"{conn}/{name}")
        _flush_host_neighbours()
        yield lab
    finally:
        for conn in lab.connections:
            with suppress(mcinfra.McInfraError):
                infra.connect(conn).destroy_all()
        for region, state_dir in regions:
            cleanup_region(region, state_dir)
        shutil.rmtree(home, ignore_errors=True)
