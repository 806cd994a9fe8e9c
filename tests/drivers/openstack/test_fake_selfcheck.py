"""The fake's checks, checked: the services' own published bodies pass them (so they are not
over-strict), and a body or status the material does not allow fails them (so they have teeth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.openstack import validate
from tests.fakes.openstack.validate import DATA, SAMPLE_SETS, ShapeError

#: Nova api samples -> (Tempest module, schema, microversions the sample stands for)
NOVA_SAMPLES = [
    ("servers", "server-get-resp.json.tpl", "get_server", ["2.1"]),
    ("servers", "servers-details-resp.json.tpl", "list_servers_detail", ["2.1"]),
    ("servers", "server-create-resp.json.tpl", "create_server_with_admin_pass", ["2.1"]),
    ("servers", "v2.100/server-get-resp.json.tpl", "get_server", ["2.100"]),
    ("servers", "v2.100/servers-details-resp.json.tpl", "list_servers_detail", ["2.100"]),
    ("os-keypairs", "keypairs-import-post-resp.json.tpl", "create_keypair", ["2.1"]),
    ("os-keypairs", "v2.10/keypairs-import-post-resp.json.tpl", "create_keypair", ["2.10"]),
    ("os-keypairs", "v2.10/keypairs-post-resp.json.tpl", "create_keypair", ["2.10"]),
    ("os-keypairs", "v2.10/keypairs-get-resp.json.tpl", "get_keypair", ["2.10"]),
    ("os-keypairs", "v2.10/keypairs-list-resp.json.tpl", "list_keypairs", ["2.10"]),
    ("flavors", "flavors-detail-resp.json.tpl", "list_flavors_details", ["2.1"]),
    ("flavors", "v2.61/flavors-detail-resp.json.tpl", "list_flavors_details", ["2.61"]),
    ("flavors", "v2.61/flavor-get-resp.json.tpl", "create_update_get_flavor_details", ["2.61"]),
    ("os-availability-zone", "availability-zone-list-resp.json.tpl", "list_availability_zone_list", ["2.1"]),
]
MODULES = {"servers": "servers", "os-keypairs": "keypairs", "flavors": "flavors",
           "os-availability-zone": "availability_zone"}


@pytest.mark.parametrize(("api", "path", "schema", "versions"), NOVA_SAMPLES,
                         ids=[f"{a}/{p}" for a, p, _, _ in NOVA_SAMPLES])
def test_nova_api_samples_pass_tempest_schemas(api: str, path: str, schema: str, versions: list[str]) -> None:
    body = validate.fill_template((DATA / "nova" / api / path).read_text())
    module = MODULES[api]
    for mv in versions:
        status = validate.tempest_schema(module, schema, mv)["status_code"][0]
        validate.check_tempest(module, schema, mv, status, body)


def _sample_files() -> list[tuple[str, str]]:
    return [(resource, name) for resource, (_, files) in SAMPLE_SETS.items() for name in files]


@pytest.mark.parametrize(("resource", "name"), _sample_files(), ids=[f"{r}:{n}" for r, n in _sample_files()])
def test_api_ref_samples_pass_their_shape_check(resource: str, name: str) -> None:
    folder = SAMPLE_SETS[resource][0]
    doc = json.loads((DATA / folder / name).read_text())
    if resource in ("router_interface",) or (resource == "image" and "images" not in doc):
        items = [doc]
    else:
        items = validate._items(doc)
    assert items
    for item in items:
        validate.check_resource(resource, item, name)


def test_documented_statuses_pass_and_others_fail() -> None:
    validate.check_status("network", "DELETE /v2.0/networks/{id}", 409)
    validate.check_status("network", "DELETE /v2.0/subnets/{id}", 409)  # Neutron's fault table lists 409
    validate.check_status("load-balancer", "POST /v2/lbaas/listeners", 409)
    validate.check_status("compute", "POST /servers/{id}/action suspend", 409)
    validate.check_status("compute", "POST /os-keypairs", 201)
    with pytest.raises(ShapeError):
        validate.check_status("compute", "POST /servers", 201)  # Nova answers 202
    with pytest.raises(ShapeError):
        validate.check_status("load-balancer", "POST /v2/lbaas/loadbalancers", 202)  # Octavia: 201
    with pytest.raises(ShapeError):
        validate.check_status("compute", "GET /servers/{id}", 409)
    with pytest.raises(ShapeError):
        validate.check_service_status("network", 418)


def test_shape_checks_have_teeth() -> None:
    net = json.loads((DATA / "neutron/networks/network-show-response.json").read_text())["network"]
    with pytest.raises(ShapeError, match="no api-ref sample has"):
        validate.check_resource("network", {**net, "cidr": "10.0.0.0/16"}, "network")
    with pytest.raises(ShapeError, match="missing"):
        validate.check_resource("network", {k: v for k, v in net.items() if k != "status"}, "network")
    with pytest.raises(ShapeError, match="integer"):
        validate.check_resource("network", {**net, "admin_state_up": 1}, "network")
    server = validate.nova_sample("servers", "server-get-resp.json.tpl", "2.100")
    with pytest.raises(ShapeError):
        validate.check_tempest("servers", "get_server", "2.100", 200,
                               {"server": {**server["server"], "Status": "ACTIVE"}})
    listed = validate.nova_sample("servers", "servers-details-resp.json.tpl", "2.100")
    with pytest.raises(ShapeError, match="server_groups"):
        # what the fake once served: server_groups is in GET /servers/{id} only (2.71)
        validate.check_tempest("servers", "list_servers_detail", "2.100", 200,
                               {"servers": [{**listed["servers"][0], "server_groups": []}]})
    with pytest.raises(ShapeError, match="keys differ"):
        validate.compare_keys(server, {"server": {k: v for k, v in server["server"].items() if k != "locked"}})


def test_microversion_picks_tempest_folder() -> None:
    # 2.100 adds scheduler_hints to GET /servers/{id}; 2.99 does not know it
    at_100 = validate.tempest_schema("servers", "get_server", "2.100")["response_body"]
    at_99 = validate.tempest_schema("servers", "get_server", "2.99")["response_body"]
    assert "scheduler_hints" in at_100["properties"]["server"]["properties"]
    assert "scheduler_hints" not in at_99["properties"]["server"]["properties"]
    assert validate.tempest_schema("keypairs", "create_keypair", "2.10")["status_code"] == [201]
    assert validate.tempest_schema("keypairs", "create_keypair", "2.1")["status_code"] == [200]


def test_data_has_attribution() -> None:
    text = (Path(validate.DATA) / "ATTRIBUTION.md").read_text()
    for source in ("nova==34.0.0", "neutron-lib@", "octavia@", "glance@", "keystone@", "openstacksdk==4.22.0",
                   "tempest==47.0.0", "Apache-2.0"):
        assert source in text
