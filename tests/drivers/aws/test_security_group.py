"""AWS's implicit egress rule, the protocol/port vocabulary, and atomic rule changes."""

from __future__ import annotations

from typing import Any

import pytest

from mcinfra.core.errors import AlreadyExists, CloudError, NotFound
from mcinfra.core.models import DEFAULT_OUTBOUND_RULE, SecurityGroupReq, SecurityRule, VPCReq
from tests.drivers.aws.conftest import fail_op

SSH = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")
PING6 = SecurityRule(direction="inbound", protocol="ICMP", cidr="::/0")
DNS_OUT = SecurityRule(direction="outbound", protocol="UDP", from_port=53, to_port=53, cidr="10.0.0.0/8")


@pytest.fixture
def vpc_id(conn: Any) -> str:
    return conn.vpcs().create(VPCReq(name="vpc-sg", cidr="10.0.0.0/16")).iid.system_id


def _raw(ec2: Any, sg_id: str) -> dict[str, Any]:
    return ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]


def test_default_egress_revoked_when_not_requested(conn: Any, ec2: Any, vpc_id: str) -> None:
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-closed", vpc=vpc_id, rules=[SSH]))
    assert sg.rules == [SSH]
    raw = _raw(ec2, sg.iid.system_id)
    assert raw["IpPermissionsEgress"] == []
    assert [p["IpProtocol"] for p in raw["IpPermissions"]] == ["tcp"]


def test_default_egress_kept_when_requested(conn: Any, ec2: Any, vpc_id: str) -> None:
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-open", vpc=vpc_id, rules=[SSH, DEFAULT_OUTBOUND_RULE]))
    assert set(sg.rules) == {SSH, DEFAULT_OUTBOUND_RULE}
    egress = _raw(ec2, sg.iid.system_id)["IpPermissionsEgress"]
    assert len(egress) == 1
    assert egress[0]["IpProtocol"] == "-1"
    assert egress[0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]


def test_all_icmp_and_ipv6_vocabulary(conn: Any, ec2: Any, vpc_id: str) -> None:
    all_in = SecurityRule(direction="inbound", protocol="ALL", cidr="10.1.0.0/16")
    ping = SecurityRule(direction="inbound", protocol="ICMP", cidr="0.0.0.0/0")
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-v", vpc=vpc_id, rules=[all_in, ping, PING6]))
    assert set(sg.rules) == {all_in, ping, PING6}
    perms = {
        (p["IpProtocol"], p.get("FromPort"), p.get("ToPort")): p for p in _raw(ec2, sg.iid.system_id)["IpPermissions"]
    }
    assert perms[("-1", None, None)]["IpRanges"] == [{"CidrIp": "10.1.0.0/16"}]
    assert perms[("icmp", -1, -1)]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert perms[("icmpv6", -1, -1)]["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]


def test_create_whose_rules_fail_deletes_the_group(conn: Any, ec2: Any, vpc_id: str) -> None:
    with (
        fail_op(ec2, "AuthorizeSecurityGroupIngress", "RulesPerSecurityGroupLimitExceeded"),
        pytest.raises(CloudError) as err,
    ):
        conn.security_groups().create(SecurityGroupReq(name="sg-bad", vpc=vpc_id, rules=[SSH]))
    assert err.value.code == "RulesPerSecurityGroupLimitExceeded"
    names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert "sg-bad" not in names


def test_add_rules_is_all_or_nothing(conn: Any, ec2: Any, vpc_id: str) -> None:
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-a", vpc=vpc_id, rules=[SSH]))
    with fail_op(ec2, "AuthorizeSecurityGroupEgress", "InternalError"), pytest.raises(CloudError):
        conn.security_groups().add_rules(sg.iid, [PING6, DNS_OUT])
    assert conn.security_groups().get(sg.iid).rules == [SSH]
    got = conn.security_groups().add_rules(sg.iid, [PING6, DNS_OUT])
    assert set(got.rules) == {SSH, PING6, DNS_OUT}


def test_remove_rules_is_all_or_nothing(conn: Any, ec2: Any, vpc_id: str) -> None:
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-r", vpc=vpc_id, rules=[SSH, DNS_OUT]))
    with fail_op(ec2, "RevokeSecurityGroupEgress", "InternalError"), pytest.raises(CloudError):
        conn.security_groups().remove_rules(sg.iid, [SSH, DNS_OUT])
    assert set(conn.security_groups().get(sg.iid).rules) == {SSH, DNS_OUT}
    assert conn.security_groups().remove_rules(sg.iid, [SSH, DNS_OUT]).rules == []


def test_duplicate_and_missing_rules_and_groups_map_to_typed_errors(conn: Any, vpc_id: str) -> None:
    sgs = conn.security_groups()
    sg = sgs.create(SecurityGroupReq(name="sg-d", vpc=vpc_id, rules=[SSH]))
    with pytest.raises(AlreadyExists):
        sgs.add_rules(sg.iid, [SSH])
    with pytest.raises(AlreadyExists):
        sgs.create(SecurityGroupReq(name="sg-d", vpc=vpc_id))
    sgs.delete(sg.iid)
    with pytest.raises(NotFound):
        sgs.get(sg.iid)
    with pytest.raises(NotFound):
        sgs.delete(sg.iid)


def test_default_groups_are_not_listed(conn: Any, vpc_id: str) -> None:
    assert conn.security_groups().list() == []
