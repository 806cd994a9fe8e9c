"""The remote scripts and output parsers, without a VM."""

import shlex

from mcinfra.cladnet.check import PingStats, RTTMatrix, parse_ping
from mcinfra.cladnet.remote import down_script, keys_script, ping_script, up_script, warm_script

PING_OUT = """@@ 10.9.0.2
PING 10.9.0.2 (10.9.0.2) 56(84) bytes of data.

--- 10.9.0.2 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 411ms
rtt min/avg/max/mdev = 0.338/0.956/1.906/0.681 ms
@@ 10.9.0.3
3 packets transmitted, 0 received, 100% packet loss
@@ 10.9.0.4
ping: connect: Network is unreachable
"""


def test_parse_ping_both_formats():
    stats = parse_ping(PING_OUT)
    assert stats["10.9.0.2"] == PingStats(3, 3, 0.338, 0.956, 1.906)
    assert stats["10.9.0.3"].loss == 100.0 and stats["10.9.0.3"].avg_ms is None
    assert stats["10.9.0.4"].sent == 0 and "unreachable" in stats["10.9.0.4"].error


def test_matrix_full_mesh_and_table():
    m = RTTMatrix("n", ["a", "b"], {("a", "b"): PingStats(3, 3, 1, 1, 1),
                                    ("b", "a"): PingStats(3, 2, 1, 1, 1)})
    assert not m.full_mesh and m.unreachable() == []
    m.cells[("b", "a")] = PingStats(3, 3, 1, 2, 3)
    assert m.full_mesh
    assert m.table().row_count == 2


def test_scripts_keep_the_key_on_the_vm():
    keys = keys_script("cn-x")
    assert "wg genkey > /etc/wireguard/cn-x.key" in keys and "umask 077" in keys
    assert "[ -s /etc/wireguard/cn-x.key ] ||" in keys  # generated once, kept on re-deploy
    up = up_script("cn-x", "# c\n[Interface]\nAddress = 10.9.0.1/24\n", "10.9.0.1/24", 1420, "auto")
    # the syncconf input gets the key from the file on the VM, never from an argument
    assert "printf 'PrivateKey = '; cat /etc/wireguard/cn-x.key" in up
    assert "chmod 600" in up and "wg syncconf cn-x" in up
    assert "ip link add dev cn-x type wireguard 2>/dev/null || { wireguard-go cn-x" in up
    assert "wireguard-go" not in up_script("cn-x", "", "10.9.0.1/24", 1420, "kernel")
    assert "rm -f /etc/wireguard/cn-x.key" in down_script("cn-x", purge=True)
    assert ".key" not in down_script("cn-x")


def test_ping_scripts_quote_targets():
    evil = "10.0.0.1;reboot"
    for script in (ping_script([evil], 3), warm_script([evil])):
        assert shlex.quote(evil) in script
        assert " 10.0.0.1;reboot" not in script
