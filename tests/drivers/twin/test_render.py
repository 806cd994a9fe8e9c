"""Twin pieces that need no root: nft rendering, naming, catalog, driver checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcinfra.core.errors import DriverNotInstalled, InvalidRequest, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import DEFAULT_OUTBOUND_RULE, SecurityRule
from mcinfra.drivers.twin import catalog, netns
from mcinfra.drivers.twin.driver import TwinDriver
from mcinfra.drivers.twin.nlb import render
from mcinfra.drivers.twin.security_group import render_filter
from mcinfra.drivers.twin.state import Region, region_prefix


def rule(direction: str, protocol: str, a: int = -1, b: int = -1, cidr: str = "0.0.0.0/0") -> SecurityRule:
    return SecurityRule(direction=direction, protocol=protocol, from_port=a, to_port=b, cidr=cidr)


def test_filter_denies_by_default_and_allows_each_rule() -> None:
    text = render_filter(
        [
            DEFAULT_OUTBOUND_RULE,
            rule("inbound", "TCP", 22, 22),
            rule("inbound", "UDP", 1, 65535, "10.0.0.0/8"),
            rule("inbound", "ICMP", cidr="2001:db8::/32"),
            rule("outbound", "TCP", 1000, 1000, "198.18.4.7/32"),
        ]
    )
    inbound = text.split("chain inbound")[1].split("chain outbound")[0]
    outbound = text.split("chain outbound")[1]
    assert "policy drop" in inbound and "policy drop" in outbound
    assert "ct state established,related accept" in inbound
    assert "meta nfproto ipv4 meta l4proto tcp th dport 22 accept" in inbound
    assert "ip saddr 10.0.0.0/8 meta l4proto udp th dport 1-65535 accept" in inbound
    assert "ip6 saddr 2001:db8::/32 meta l4proto ipv6-icmp accept" in inbound
    assert "meta nfproto ipv4 accept" in outbound
    assert "ip daddr 198.18.4.7/32 meta l4proto tcp th dport 1000 accept" in outbound
    # the table is replaced in one transaction
    assert text.startswith("table inet twin_sg {}\ndelete table inet twin_sg\n")


def test_empty_filter_blocks_everything_but_replies() -> None:
    text = render_filter([])
    assert text.count("accept") == 4  # established + loopback, both directions


def test_nlb_map_round_robin_over_active_targets() -> None:
    st = {
        "vms": {
            "vm-1": {"state": "running", "private_ip": "10.0.1.4"},
            "vm-2": {"state": "suspended", "private_ip": "10.0.1.5"},
            "vm-3": {"state": "running", "private_ip": "10.0.1.6"},
            "vm-4": {"state": "running", "private_ip": "10.0.1.7"},
        }
    }
    lb = {
        "listener": {"protocol": "TCP", "port": 80},
        "vm_group": {"protocol": "TCP", "port": 8080, "vms": ["vm-1", "vm-2", "vm-3", "vm-4", "vm-gone"]},
        "unhealthy": ["vm-4"],
    }
    text = render(st, lb)
    assert "tcp th dport 80 dnat to numgen inc mod 2 map { 0 : 10.0.1.4, 1 : 10.0.1.6 } : 8080" in text
    lb["unhealthy"] = ["vm-1", "vm-3", "vm-4"]
    assert "dnat to numgen" not in render(st, lb)


def test_prefix_is_short_stable_and_per_state_dir(tmp_path: Path) -> None:
    a = region_prefix("r1", tmp_path / "a")
    assert a == region_prefix("r1", tmp_path / "a")
    assert a != region_prefix("r1", tmp_path / "b") and a != region_prefix("r2", tmp_path / "a")
    assert len(a) == 5 and a.startswith("t")
    reg = Region("r1", tmp_path / "a")
    assert len(reg.link_name("v", 99999, "p")) <= 15


def test_catalog() -> None:
    assert catalog.find_image("ubuntu-22.04").iid.system_id == "ubuntu-22.04"
    assert catalog.find_spec("twin.small").vcpus == 1
    with pytest.raises(NotFound):
        catalog.find_image("windows-95")
    with pytest.raises(NotFound):
        catalog.find_spec("m5.24xlarge")
    zones = catalog.TwinRegionZoneHandler("mine").get("mine").zones
    assert [z.name for z in zones] == ["mine-a", "mine-b", "mine-c"]


def test_driver_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "missing_tools", lambda: ["root", "nftables (nft)"])
    driver = TwinDriver()
    assert driver.check_installed() == "the twin needs root, nftables (nft)"
    with pytest.raises(DriverNotInstalled, match="nftables"):
        driver.connect(SessionInfo(name="c", provider="twin", region="r"))


def test_unknown_option_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(netns, "missing_tools", lambda: [])
    with pytest.raises(InvalidRequest, match="twin has no option 'x'") as err:
        TwinDriver().connect(
            SessionInfo(name="c", provider="twin", region="r", options={"state_dir": str(tmp_path), "x": 1})
        )
    assert err.value.field == "options.x"
    with pytest.raises(InvalidRequest, match="resume_changes_public_ip"):
        TwinDriver().connect(SessionInfo(name="c", provider="twin", region="r",
                                         options={"resume_changes_public_ip": "sometimes"}))
