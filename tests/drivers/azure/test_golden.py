"""Golden inputs: bodies Azure published (x-ms-examples) or really sent (recorded SDK sessions) fed to
the driver's own parsing, so the driver is tested on shapes the fake did not write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcinfra.core.models import SecurityRule, VMStatus
from mcinfra.drivers.azure.image import image_info
from mcinfra.drivers.azure.nlb import AzureNLBHandler
from mcinfra.drivers.azure.region_zone import region_info
from mcinfra.drivers.azure.security_group import sg_info
from mcinfra.drivers.azure.spec import spec_info
from mcinfra.drivers.azure.vm import AzureVMHandler, vm_status
from mcinfra.drivers.azure.vpc import vpc_info
from tests.fakes.azure import validator

GOLDEN = Path(validator.DATA) / "golden"


def body(name: str, status: str = "200") -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))["responses"][status]["body"]


def recorded(name: str, method: str, fragment: str) -> list[Any]:
    entries = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return [e["body"] for e in entries if e["method"] == method and fragment in e["uri"] and e["status"] == 200]


def test_vm_status_of_published_instance_views() -> None:
    from azure.mgmt.compute.models import VirtualMachineInstanceView

    assert vm_status(VirtualMachineInstanceView(body("VirtualMachine_Get_InstanceView.json"))) == VMStatus.RUNNING
    views = recorded("recording_compute_vm.json", "GET", "/instanceView")
    assert views and all(vm_status(VirtualMachineInstanceView(v)) == VMStatus.RUNNING for v in views)


class _Stub:
    """What the VM and NLB parsers ask the session for, answered from published bodies."""

    location = "westus"

    def __init__(self) -> None:
        from azure.mgmt.network.models import NetworkInterface

        self.nic = NetworkInterface(body("NetworkInterfaceCreate.json"))
        self.address = body("PublicIpAddressCreateDefaults.json")["properties"].get("ipAddress", "40.0.0.1")


def test_vm_info_of_published_vm() -> None:
    from azure.mgmt.compute.models import VirtualMachine, VirtualMachineInstanceView

    stub = _Stub()
    handler = AzureVMHandler.__new__(AzureVMHandler)
    handler.nic_of = lambda vm, known=None: stub.nic  # type: ignore[method-assign]
    handler.public_ip = lambda pip_id, known=None: stub.address if pip_id else None  # type: ignore[method-assign]
    vm = VirtualMachine(body("VirtualMachine_Get.json"))
    info = handler.info(vm, VirtualMachineInstanceView(body("VirtualMachine_Get_InstanceView.json")))
    assert info.iid.name_id == "myVM" and info.iid.system_id == vm.id
    assert info.spec == "Standard_DS3_v2"  # the wire value, not the SDK enum's name
    assert info.status == VMStatus.RUNNING
    ipc = stub.nic.ip_configurations[0]
    assert info.subnet == ipc.subnet.id and info.vpc == ipc.subnet.id.split("/subnets/")[0]
    assert info.image.count(":") == 3
    assert info.root_disk_type in (None, "Premium_LRS", "Standard_LRS", "StandardSSD_LRS")
    for entry in recorded("recording_compute_vm.json", "GET", "/virtualMachines/virtualmachinexeb772750?"):
        got = handler.info(VirtualMachine(entry), VirtualMachineInstanceView({"statuses": []}))
        assert got.spec == "Standard_D2_v2" and got.status == VMStatus.CREATING


def test_vpc_of_published_vnet() -> None:
    from azure.mgmt.network.models import VirtualNetwork

    info = vpc_info(VirtualNetwork(body("VirtualNetworkCreate.json")))
    assert info.cidr == "10.0.0.0/16" and info.extra["provisioning_state"] == "Succeeded"
    vnets = [e for e in recorded("recording_compute_vm.json", "GET", "/virtualNetworks/") if "subnets" not in e["id"]]
    assert vnets
    for entry in vnets:
        got = vpc_info(VirtualNetwork(entry))
        assert got.iid.system_id.endswith(got.iid.name_id) and got.cidr


def test_security_group_of_published_nsg() -> None:
    from azure.mgmt.network.models import NetworkSecurityGroup

    nsg = NetworkSecurityGroup(body("NetworkSecurityGroupCreate.json"))
    info = sg_info(nsg)
    # the six default rules (priority 65000+) are never reported as the group's rules
    assert len(nsg.default_security_rules or []) == 6
    assert all(isinstance(r, SecurityRule) for r in info.rules)
    assert len(info.rules) <= len(nsg.security_rules or [])


def test_regions_of_published_locations() -> None:
    from azure.mgmt.resource.subscriptions.models import Location

    locations = [region_info(Location(loc)) for loc in body("GetLocations.json")["value"]]
    assert locations and all(r.name for r in locations)


def test_specs_of_published_sizes() -> None:
    from azure.mgmt.compute.models import VirtualMachineSize

    # the minimum-set example is an empty list: the parser must take it, and a full size too
    assert body("VirtualMachineSizes_List_MinimumSet_Gen.json").get("value", []) == []
    spec = spec_info(VirtualMachineSize({"name": "Standard_D2ps_v5", "numberOfCores": 2, "memoryInMB": 8192,
                                         "osDiskSizeInMB": 1047552, "resourceDiskSizeInMB": 0,
                                         "maxDataDiskCount": 4}), "westus")
    assert (spec.vcpus, spec.memory_mib, spec.architecture) == (2, 8192, "arm64")


def test_image_of_published_image() -> None:
    from azure.mgmt.compute.models import VirtualMachineImage

    img = VirtualMachineImage(body("VirtualMachineImage_Get_MaximumSet_Gen.json"))
    info = image_info("pub", "offer", "sku", "1.0.0", img)
    assert info.iid.system_id == "pub:offer:sku:1.0.0"
    assert info.os_platform in ("Linux/UNIX", "Windows")


@pytest.mark.parametrize("source", ["example", "recording"])
def test_nlb_of_published_load_balancer(source: str) -> None:
    from azure.mgmt.network.models import LoadBalancer

    if source == "example":
        lb = LoadBalancer(body("LoadBalancerCreate.json"))
    else:
        lb = LoadBalancer(recorded("recording_network_lb.json", "GET", "/loadBalancers/myLoadBalancer?")[0])
    handler = AzureNLBHandler.__new__(AzureNLBHandler)
    handler.vms = AzureVMHandler.__new__(AzureVMHandler)
    handler.vms.public_ip = lambda pip_id: "20.1.2.3"  # type: ignore[method-assign]
    handler.members = lambda lb: {}  # type: ignore[method-assign]
    # published load balancers name their parts freely: read them through the driver's names
    from mcinfra.drivers.azure import nlb as nlb_module

    rule = lb.load_balancing_rules[0]
    probe = lb.probes[0] if lb.probes else None
    pools = lb.backend_address_pools
    old = (nlb_module.RULE, nlb_module.PROBE, nlb_module.POOL)
    nlb_module.RULE, nlb_module.PROBE = rule.name, probe.name if probe else "none"
    nlb_module.POOL = pools[0].name
    try:
        info = handler.info(lb)
    finally:
        nlb_module.RULE, nlb_module.PROBE, nlb_module.POOL = old
    assert info.listener.port == rule.frontend_port and info.vm_group.port == rule.backend_port
    assert info.listener.protocol in ("TCP", "UDP") and info.type in ("PUBLIC", "INTERNAL")
    if probe is not None:
        assert info.health_checker.port == probe.port
