"""What the GCP driver sends: checked on the requests the loopback fake recorded."""

from __future__ import annotations

from typing import Any

from mcinfra.core.models import (
    DEFAULT_OUTBOUND_RULE,
    IID,
    KeyPairReq,
    SecurityGroupReq,
    SecurityRule,
    SubnetReq,
    VMReq,
    VPCReq,
)
from mcinfra.drivers.gcp.security_group import DENY_PRIORITY
from tests.fakes.gcp import GcpFake

SSH = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="10.0.0.0/8")
DNS_OUT = SecurityRule(direction="outbound", protocol="UDP", from_port=53, to_port=53, cidr="8.8.8.8/32")


def _vpc(cloud: Any) -> None:
    cloud.vpcs().create(
        VPCReq(
            name="vpc-1", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24", zone="us-central1-b")]
        )
    )


def _firewalls_sent(fake: GcpFake) -> list[dict[str, Any]]:
    return [r.body for r in fake.find("POST", r"/global/firewalls$")]


def test_vpc_is_custom_mode_and_subnet_zone_is_kept(cloud: Any, fake: GcpFake) -> None:
    _vpc(cloud)
    (net,) = [r.body for r in fake.find("POST", r"/global/networks$")]
    assert net["autoCreateSubnetworks"] is False
    (sn,) = [r.body for r in fake.find("POST", r"/regions/us-central1/subnetworks$")]
    assert sn["ipCidrRange"] == "10.0.1.0/24"
    assert sn["network"].endswith("/global/networks/vpc-1")
    info = cloud.vpcs().get(IID(name_id="vpc-1", system_id="vpc-1"))
    assert info.cidr == "10.0.0.0/16"
    assert info.subnets[0].zone == "us-central1-b"


def test_sg_rules_are_firewalls_targeting_the_sg_tag(cloud: Any, fake: GcpFake) -> None:
    _vpc(cloud)
    sg = cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=[SSH, DNS_OUT]))
    sent = _firewalls_sent(fake)
    assert {tuple(fw["targetTags"]) for fw in sent} == {("sg-1",)}
    ingress = next(fw for fw in sent if fw["direction"] == "INGRESS")
    assert ingress["allowed"] == [{"IPProtocol": "tcp", "ports": ["22"]}]
    assert ingress["sourceRanges"] == ["10.0.0.0/8"]
    egress = [fw for fw in sent if fw["direction"] == "EGRESS"]
    allow = next(fw for fw in egress if "allowed" in fw)
    assert allow["allowed"] == [{"IPProtocol": "udp", "ports": ["53"]}]
    assert allow["destinationRanges"] == ["8.8.8.8/32"]
    # no "outbound ALL 0.0.0.0/0" in the set: GCP's implied egress allow is overridden for the tag
    deny = next(fw for fw in egress if "denied" in fw)
    assert deny["denied"] == [{"IPProtocol": "all"}]
    assert deny["priority"] == DENY_PRIORITY and deny["destinationRanges"] == ["0.0.0.0/0"]
    assert set(sg.rules) == {SSH, DNS_OUT}


def test_default_outbound_rule_replaces_the_egress_deny(cloud: Any, fake: GcpFake) -> None:
    _vpc(cloud)
    iid = IID(name_id="sg-1", system_id="sg-1")
    cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=[SSH]))
    assert len(fake.state.coll("mcinfra-test", "global", "firewalls")) == 2  # SSH + egress deny
    info = cloud.security_groups().add_rules(iid, [DEFAULT_OUTBOUND_RULE])
    assert set(info.rules) == {SSH, DEFAULT_OUTBOUND_RULE}
    fws = fake.state.coll("mcinfra-test", "global", "firewalls").values()
    assert not any("denied" in fw for fw in fws)
    info = cloud.security_groups().remove_rules(iid, [DEFAULT_OUTBOUND_RULE, SSH])
    assert info.rules == []
    fws = list(fake.state.coll("mcinfra-test", "global", "firewalls").values())
    assert len(fws) == 1 and fws[0]["denied"] == [{"IPProtocol": "all"}]
    # the SG with no rules still exists (its deny rule carries the tag)
    assert cloud.security_groups().get(iid).rules == []


def test_vm_gets_ssh_key_metadata_sg_tags_and_a_public_ip(cloud: Any, fake: GcpFake) -> None:
    _vpc(cloud)
    cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=[SSH, DEFAULT_OUTBOUND_RULE]))
    key = cloud.keypairs().create(KeyPairReq(name="key-1"))
    vm = cloud.vms().start(
        VMReq(
            name="vm-1",
            image="debian-12",
            spec="e2-small",
            vpc="vpc-1",
            subnet="sn-1",
            security_groups=["sg-1"],
            keypair="key-1",
            public_key=key.public_key,
            root_disk_type="pd-ssd",
            root_disk_size=20,
        )
    )
    (req,) = fake.find("POST", r"/zones/us-central1-a/instances$")
    body = req.body
    meta = {i["key"]: i["value"] for i in body["metadata"]["items"]}
    key_line = " ".join(key.public_key.split()[:2])
    assert meta["ssh-keys"].startswith(f"cb-user:{key_line}")
    assert body["tags"]["items"] == ["sg-1"]
    nic = body["networkInterfaces"][0]
    assert nic["accessConfigs"][0]["type"] == "ONE_TO_ONE_NAT"
    assert nic["subnetwork"].endswith("/regions/us-central1/subnetworks/sn-1")
    init = body["disks"][0]["initializeParams"]
    assert init["sourceImage"] == "projects/debian-cloud/global/images/debian-12-bookworm-v20240312"
    assert init["diskType"].endswith("/diskTypes/pd-ssd") and init["diskSizeGb"] == "20"
    assert body["machineType"] == "zones/us-central1-a/machineTypes/e2-small"
    assert vm.public_ip and vm.private_ip == "10.0.1.2"
    assert (vm.root_disk_type, vm.root_disk_size, vm.keypair, vm.security_groups) == ("pd-ssd", 20, "key-1", ["sg-1"])
    # anonymous credentials: nothing that looks like a token leaves the process
    assert all("authorization" not in {k.lower() for k in r.headers} for r in fake.requests)


def test_keypair_is_generated_locally(cloud: Any, fake: GcpFake) -> None:
    key = cloud.keypairs().create(KeyPairReq(name="key-1"))
    assert key.private_key and key.private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert key.public_key.startswith("ssh-ed25519 ") and key.fingerprint.startswith("SHA256:")
    assert fake.requests == []
    imported = cloud.keypairs().create(KeyPairReq(name="key-2", public_key=key.public_key))
    assert imported.private_key is None and imported.fingerprint == key.fingerprint
