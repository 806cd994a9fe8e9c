"""The driver's parsing fed with the services' published bodies (not bodies the fake wrote):
VM status and addresses from Nova's api samples, rules from Neutron's, health from Octavia's,
specs, images, regions and subnets from the api-refs."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from openstack.compute.v2.flavor import Flavor
from openstack.compute.v2.server import Server
from openstack.identity.v3.region import Region
from openstack.image.v2.image import Image
from openstack.load_balancer.v2.member import Member
from openstack.network.v2.floating_ip import FloatingIP
from openstack.network.v2.port import Port
from openstack.network.v2.security_group_rule import SecurityGroupRule
from openstack.network.v2.subnet import Subnet

from mcinfra.core.models import SecurityRule, VMStatus
from mcinfra.drivers.openstack.client import error_code
from mcinfra.drivers.openstack.image import image_info
from mcinfra.drivers.openstack.nlb import HEALTHY
from mcinfra.drivers.openstack.security_group import from_neutron
from mcinfra.drivers.openstack.spec import spec_info
from mcinfra.drivers.openstack.vm import OpenStackVMHandler, addresses, vm_status
from mcinfra.drivers.openstack.vpc import subnet_info, vpc_cidr
from tests.fakes.openstack import validate
from tests.fakes.openstack.validate import DATA


def load(path: str) -> Any:
    return json.loads((DATA / path).read_text())


def nova(api: str, name: str, mv: str) -> Any:
    return validate.nova_sample(api, name, mv)


def stub_handler() -> OpenStackVMHandler:
    return OpenStackVMHandler(SimpleNamespace(region="RegionOne", zone=None))  # type: ignore[arg-type]


def test_server_samples_parse() -> None:
    for mv in ("2.1", "2.100"):
        body = nova("servers", "server-get-resp.json.tpl", mv)["server"]
        server = Server.existing(**body)
        assert vm_status(server.status, server.task_state) == VMStatus.RUNNING
        assert addresses(server) == ("192.168.1.30", None)
        assert server.flavor["original_name"] if mv == "2.100" else True
    listed = nova("servers", "servers-details-resp.json.tpl", "2.100")["servers"]
    assert [vm_status(s["status"], s["OS-EXT-STS:task_state"]) for s in listed] == [VMStatus.RUNNING]


def test_server_info_from_published_server_port_and_floating_ip() -> None:
    body = nova("servers", "server-get-resp.json.tpl", "2.100")["server"]
    port = Port.existing(**load("neutron/ports/port-show-response.json")["port"])
    fip_body = load("neutron/floatingips/floatingip-show-response.json")["floatingip"]
    fip = FloatingIP.existing(**{**fip_body, "port_id": port.id})
    info = stub_handler()._info(Server.existing(**body), [port], [fip], {body["image"]["id"]: "ubuntu"})
    assert info.iid.system_id == body["id"] and info.iid.name_id == "new-server-test"
    assert info.status == VMStatus.RUNNING
    assert (info.private_ip, info.public_ip) == ("192.168.1.30", "172.24.4.228")
    assert (info.vpc, info.subnet) == (port.network_id, port.fixed_ips[0]["subnet_id"])
    assert info.spec == "m1.tiny" and info.image == "ubuntu" and info.zone == "us-west"
    assert info.root_disk_size == 1 and info.root_disk_type == "local"
    assert info.created_at is not None


def test_security_group_rule_samples_parse() -> None:
    rules = [SecurityGroupRule.existing(**r) for r in load(
        "neutron/security-groups/security-group-rules-list-response.json")["security_group_rules"]]
    mapped = [from_neutron(r) for r in rules]
    # the two egress defaults Neutron gives every group; remote-group rules have no mcinfra form
    assert mapped == [SecurityRule(direction="outbound", protocol="ALL", cidr="::/0"),
                      SecurityRule(direction="outbound", protocol="ALL", cidr="0.0.0.0/0"), None, None]
    made = load("neutron/security-groups/security-group-rule-create-response.json")["security_group_rule"]
    assert made["remote_group_id"] and from_neutron(SecurityGroupRule.existing(**made)) is None
    tcp = {**made, "remote_group_id": None, "remote_address_group_id": None, "protocol": "tcp",
           "port_range_min": 80, "port_range_max": 80,
           "remote_ip_prefix": "192.0.2.0/24"}
    assert from_neutron(SecurityGroupRule.existing(**tcp)) == SecurityRule(
        direction="inbound", protocol="TCP", from_port=80, to_port=80, cidr="192.0.2.0/24")


def test_member_health_from_octavia_sample() -> None:
    members = [Member.existing(**m) for m in load("octavia/members-list-response.json")["members"]]
    assert [(m.address, m.operating_status in HEALTHY) for m in members] == [("192.0.2.16", True)]


def test_flavors_images_regions_subnets_parse() -> None:
    flavor = Flavor.existing(**nova("flavors", "flavor-get-resp.json.tpl", "2.61")["flavor"])
    spec = spec_info(flavor, "RegionOne")
    assert (spec.name, spec.vcpus, spec.memory_mib, spec.disk_gb) == ("m1.small.description", 1, 2048, 20)
    # "self" (the image's link) cannot be a keyword argument; the SDK reads it from the body itself
    images = [image_info(Image.existing(**{k: v for k, v in i.items() if k != "self"}))
              for i in load("glance/images-list-response.json")["images"]]
    assert [(i.name, i.status) for i in images] == [("cirros-0.3.2-x86_64-disk", "Available"),
                                                    ("F17-x86_64-cfntools", "Available")]
    assert images[0].iid.system_id == "1bea47ed-f6a9-463b-b423-14b9cca9ad27"
    regions = [Region.existing(**r) for r in load("keystone/regions-list-response.json")["regions"]]
    assert [r.id for r in regions] == ["RegionOne"]
    subnets = [Subnet.existing(**s) for s in load("neutron/subnets/subnets-list-response.json")["subnets"]]
    assert [subnet_info(s).cidr for s in subnets] == ["10.0.0.0/24", "192.0.0.0/8"]
    # a network made elsewhere has no CIDR note: the smallest block covering its subnets
    assert vpc_cidr("", ["10.0.0.0/24", "10.0.3.0/24"]) == "10.0.0.0/22"
    assert vpc_cidr("mcinfra:cidr=10.9.0.0/16", ["10.0.0.0/24"]) == "10.9.0.0/16"


def test_error_bodies_in_each_services_shape() -> None:
    assert error_code(404, {"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}) == (
        "itemNotFound", "Instance x could not be found.")
    assert error_code(409, {"NeutronError": {"type": "NetworkInUse", "message": "in use", "detail": ""}}) == (
        "NetworkInUse", "in use")
    pending = "Invalid state PENDING_UPDATE of loadbalancer resource x"
    assert error_code(409, {"faultcode": "Client", "faultstring": pending, "debuginfo": None})[0] == "ImmutableState"
    assert error_code(503, {"faultcode": "Server", "faultstring": "busy", "debuginfo": None}) == (
        "ServiceUnavailable", "busy")
    assert error_code(401, {"error": {"code": 401, "title": "Unauthorized", "message": "no"}}) == (
        "Unauthorized", "no")
