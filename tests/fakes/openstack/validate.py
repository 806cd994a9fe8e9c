"""Check what the OpenStack fake serves against the services' own published material.

openstacksdk ignores unknown keys and matches them loosely, so a wrong fake would pass every
driver test. These checks compare the fake's answers with what the projects publish:

* **Nova**: Tempest's response schemas (``tempest.lib.api_schema.response.compute``, tempest
  47.0.0 installed with ``pip install --no-deps``), picked for the microversion the request
  asked for, as Tempest's own clients pick them; most say ``additionalProperties: False``.
  Then a key comparison with Nova's api samples at the same microversion (``data/nova``).
* **Neutron, Octavia, Glance, Keystone**: the api-ref samples (``data/<service>``): the keys a
  resource may carry are those its samples show, each with the JSON types seen there; unknown
  keys fail, and so do missing ones that every sample of the resource has. Glance images are
  also checked against Glance's published image JSON schema.
* **Status codes**: every status, success or error, must be one the api-ref lists for that
  operation (``data/status_codes.json``, derived from the ``.inc`` pages) or one the service's
  fault table lists for every call.

The same functions run in the self-check test over the published samples themselves, which
proves the checks accept real traffic.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"

#: statuses every call of a service may answer (the fault tables of Neutron's intro.inc and
#: Octavia's general.inc; Keystone's 401 for a bad or expired token)
SERVICE_FAULTS: dict[str, set[int]] = {
    "network": {400, 401, 404, 409, 412, 500, 503},
    "load-balancer": {400, 401, 403, 404, 409, 500, 503},
    # 406: a microversion outside the advertised range (Nova's api-guide, microversions.rst)
    "compute": {401, 406},
    "image": {401},
    "identity": {401},
}


class ShapeError(AssertionError):
    """A body or status the published material does not allow."""


# ---------------------------------------------------------------- status codes
@functools.cache
def status_table() -> dict[str, dict[str, dict[str, list[int]]]]:
    return json.loads((DATA / "status_codes.json").read_text())


def check_status(service: str, op: str | None, status: int) -> None:
    """``op`` is the api-ref key ("POST /v2.0/networks"); None for calls the api-ref does not list
    per operation (version documents, tokens)."""
    if status in SERVICE_FAULTS.get(service, set()):
        return
    if op is None:
        if status >= 400 and status not in {400, 401, 403, 404, 409}:
            raise ShapeError(f"{service}: status {status} is not documented")
        return
    entry = status_table()[service].get(op)
    if entry is None:
        raise ShapeError(f"{service}: no api-ref entry for {op!r}")
    if status not in entry["normal"] + entry["error"]:
        raise ShapeError(f"{service} {op}: status {status} is not one the api-ref lists ({entry})")


def check_service_status(service: str, status: int) -> None:
    """For errors not tied to one operation (injected faults, unrouted paths): the status must be
    one the service documents for some operation, or in its fault table."""
    documented = set(SERVICE_FAULTS.get(service, set()))
    for entry in status_table().get(service, {}).values():
        documented |= set(entry["error"])
    if status not in documented:
        raise ShapeError(f"{service}: status {status} is documented for no operation")


# ---------------------------------------------------------------- Nova: Tempest schemas
def _tempest_versions() -> list[tuple[int, str]]:
    import tempest.lib.api_schema.response.compute as compute

    out = []
    for info in pkgutil.iter_modules(compute.__path__):
        m = re.fullmatch(r"v2_(\d+)", info.name)
        if m:
            out.append((int(m.group(1)), info.name))
    return sorted(out)


@functools.cache
def tempest_schema(module: str, name: str, microversion: str) -> dict[str, Any]:
    """The schema ``name`` of ``module`` (servers, keypairs...) for this microversion: from the
    newest ``v2_N`` folder with N <= the minor version that has the module, as Tempest picks it."""
    minor = int(microversion.split(".")[1])
    for number, folder in reversed(_tempest_versions()):
        if number > minor:
            continue
        try:
            mod = importlib.import_module(f"tempest.lib.api_schema.response.compute.{folder}.{module}")
        except ModuleNotFoundError:
            continue
        if hasattr(mod, name):
            return copy.deepcopy(getattr(mod, name))
    raise ShapeError(f"tempest has no schema {module}.{name} at {microversion}")


def check_tempest(module: str, name: str, microversion: str, status: int, body: Any) -> None:
    import jsonschema

    schema = tempest_schema(module, name, microversion)
    if status not in schema["status_code"]:
        raise ShapeError(f"nova {module}.{name}@{microversion}: status {status} not in {schema['status_code']}")
    if "response_body" in schema:
        validator = jsonschema.Draft4Validator(schema["response_body"], format_checker=jsonschema.FormatChecker())
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            raise ShapeError(f"nova {module}.{name}@{microversion}: {'/'.join(map(str, e.path))}: {e.message}")
    elif body not in (None, b"", ""):
        raise ShapeError(f"nova {module}.{name}@{microversion}: the schema has no body, the fake sent one")


# ---------------------------------------------------------------- Nova: api samples
#: values for the samples' %(name)s placeholders, of the formats Tempest's schemas expect
SAMPLE_VALUES = {
    "access_ip_v4": "1.2.3.4",
    "access_ip_v6": "80fe::",
    "cdrive": "",
    "compute_endpoint": "http://openstack.example.com/6f70656e737461636b20342065766572",
    "versioned_compute_endpoint": "http://openstack.example.com/v2.1/6f70656e737461636b20342065766572",
    "compute_host": "compute",
    "fingerprint": "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c",
    "flavorid": "1",
    "hostid": "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6",
    "hostname": "new-server-test",
    "hypervisor_hostname": "fake-mini",
    "id": "7a8c3f0e-3d5c-4f6e-9a3e-1b2c3d4e5f60",
    "uuid": "7a8c3f0e-3d5c-4f6e-9a3e-1b2c3d4e5f60",
    "instance_name": "instance-00000001",
    "ip": "192.168.1.30",
    "isotime": "2013-09-03T04:01:32Z",
    "keypair_name": "keypair-1",
    "keypair_type": "ssh",
    "password": "cc6WB2MBBnzL",
    "public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5aYd44bd8JttDCE"
    " Generated-by-Nova",
    "strtime": "2013-09-03T04:01:32.000000",
    # substituted into JSON text: the newlines stay escaped
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\\nMIICXAIBAAKBgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o\\n"
    "-----END RSA PRIVATE KEY-----\\n",
    "user_id": "fake",
}


def fill_template(text: str) -> Any:
    """A Nova ``*.json.tpl`` with its placeholders filled, parsed."""
    text = text.replace("%(strtime_or_none)s", json.dumps(SAMPLE_VALUES["strtime"]))

    def repl(m: re.Match[str]) -> str:
        return SAMPLE_VALUES[m.group(1)]

    return json.loads(re.sub(r"%\((\w+)\)s", repl, text))


def _version_key(folder: str) -> tuple[int, int]:
    major, minor = folder[1:].split(".")
    return int(major), int(minor)


@functools.cache
def nova_sample(api: str, filename: str, microversion: str) -> Any:
    """The api sample for ``microversion``: the file in the newest ``v2.N`` folder <= it that has
    it, else the base folder (how Nova's own sample tests resolve it)."""
    base = DATA / "nova" / api
    minor = _version_key("v" + microversion)
    folders = sorted(
        (p for p in base.iterdir() if p.is_dir() and _version_key(p.name) <= minor and (p / filename).exists()),
        key=lambda p: _version_key(p.name),
    )
    path = (folders[-1] if folders else base) / filename
    return fill_template(path.read_text())


#: keys whose values are free-form maps (user metadata, hints, image properties...), not compared
FREE_FORM = {"metadata", "scheduler_hints", "properties", "extra_specs", "addresses"}
#: keys Nova adds only in some states (``fault`` once a server is in ERROR)
CONDITIONAL = {"fault"}


def compare_keys(sample: Any, body: Any, where: str = "") -> None:
    """Recursively: the body has exactly the keys the sample has (lists compare item shapes)."""
    if isinstance(sample, dict) and isinstance(body, dict):
        # ``<collection>_links`` appears only on a page that has a next one (Tempest's schemas type it)
        paging = {k for k in (*body, *sample) if k.endswith("_links") and not where}
        missing = set(sample) - set(body) - CONDITIONAL - paging
        unknown = set(body) - set(sample) - CONDITIONAL - paging
        if missing or unknown:
            raise ShapeError(f"{where or '/'}: keys differ from the api sample: missing {sorted(missing)}, "
                             f"unknown {sorted(unknown)}")
        for key in sample:
            if key in body and key not in FREE_FORM:
                compare_keys(sample[key], body[key], f"{where}/{key}")
        if "addresses" in sample and isinstance(body.get("addresses"), dict):
            template = next(iter(sample["addresses"].values()))[0]
            for net, entries in body["addresses"].items():
                for entry in entries:
                    compare_keys(template, entry, f"{where}/addresses/{net}")
    elif isinstance(sample, list) and isinstance(body, list) and sample:
        for i, item in enumerate(body):
            compare_keys(sample[0], item, f"{where}[{i}]")


# ---------------------------------------------------------------- Neutron / Octavia / Glance / Keystone samples
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
              type(None): "null"}


def json_type(value: Any) -> str:
    return JSON_TYPES[type(value)]


class SampleShape:
    """Keys (and their JSON types) a resource's api-ref samples show."""

    def __init__(self, samples: list[dict[str, Any]]) -> None:
        self.types: dict[str, set[str]] = {}
        self.nested: dict[str, list[dict[str, Any]]] = {}
        for s in samples:
            for k, v in s.items():
                self.types.setdefault(k, set()).add(json_type(v))
                if isinstance(v, dict) and v:
                    self.nested.setdefault(k, []).append(v)
        self.required = set.intersection(*(set(s) for s in samples)) if samples else set()

    def check(self, body: dict[str, Any], where: str, nullable: frozenset[str] = frozenset()) -> None:
        unknown = set(body) - set(self.types)
        if unknown:
            raise ShapeError(f"{where}: keys no api-ref sample has: {sorted(unknown)}")
        missing = self.required - set(body)
        if missing:
            raise ShapeError(f"{where}: keys every api-ref sample has are missing: {sorted(missing)}")
        for k, v in body.items():
            seen = self.types[k]
            t = json_type(v)
            if t == "integer" and "number" in seen:
                continue
            if t == "null" and k in nullable:
                continue
            # a key only ever shown as null is typed by the api-ref as a string (an id, a name...)
            if t not in seen and not (seen == {"null"} and t == "string"):
                raise ShapeError(f"{where}.{k}: {t} where the api-ref samples show {sorted(seen)}")


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


#: resource -> (sample folder, files whose body is one or a list of this resource)
SAMPLE_SETS: dict[str, tuple[str, list[str]]] = {
    "network": ("neutron/networks", ["network-create-response.json", "network-show-response.json",
                                     "network-update-response.json", "networks-list-response.json",
                                     "networks-bulk-create-response.json", "network-multi-show-response.json",
                                     "network-multi-create-response.json", "network-provider-show-response.json",
                                     "network-provider-create-response.json", "networks-provider-list-response.json"]),
    "subnet": ("neutron/subnets", ["subnet-create-response.json", "subnet-show-response.json",
                                   "subnet-update-response.json", "subnets-list-response.json",
                                   "subnets-create-bulk-response.json"]),
    "router": ("neutron/routers", ["router-create-response.json", "router-show-response.json",
                                   "router-update-response.json", "routers-list-response.json"]),
    "router_interface": ("neutron/routers", ["router-add-interface-response.json",
                                             "router-remove-interface-response.json"]),
    "security_group": ("neutron/security-groups", ["security-group-create-response.json",
                                                   "security-group-show-response.json",
                                                   "security-group-update-response.json",
                                                   "security-groups-list-response.json"]),
    "security_group_rule": ("neutron/security-groups", ["security-group-rule-create-response.json",
                                                        "security-group-rule-show-response.json",
                                                        "security-group-rules-list-response.json",
                                                        "security-group-rule-bulk-create-response.json"]),
    "port": ("neutron/ports", ["port-create-response.json", "port-show-response.json",
                               "port-update-response.json", "ports-list-response.json",
                               "ports-bulk-create-response.json"]),
    "floatingip": ("neutron/floatingips", ["floatingip-create-response.json", "floatingip-show-response.json",
                                           "floatingip-update-response.json", "floating-ips-list-response.json",
                                           "floatingip-disassociate-response.json"]),
    "loadbalancer": ("octavia", ["loadbalancer-create-response.json", "loadbalancer-show-response.json",
                                 "loadbalancer-update-response.json", "loadbalancers-list-response.json",
                                 "loadbalancer-full-create-response.json"]),
    "listener": ("octavia", ["listener-create-response.json", "listener-show-response.json",
                             "listener-update-response.json", "listeners-list-response.json"]),
    "pool": ("octavia", ["pool-create-response.json", "pool-show-response.json", "pool-update-response.json",
                         "pools-list-response.json"]),
    "member": ("octavia", ["member-create-response.json", "member-show-response.json",
                           "member-update-response.json", "members-list-response.json"]),
    "healthmonitor": ("octavia", ["healthmonitor-create-response.json", "healthmonitor-show-response.json",
                                  "healthmonitor-update-response.json", "healthmonitors-list-response.json"]),
    "image": ("glance", ["image-show-response.json", "images-list-response.json"]),
    "region": ("keystone", ["region-show-response.json", "regions-list-response.json"]),
}

#: fields the api-ref's parameters.yaml documents as possibly null although the samples show a value
NULLABLE = {
    "security_group_rule": frozenset({"port_range_min", "port_range_max", "protocol", "remote_ip_prefix",
                                      "remote_group_id", "remote_address_group_id", "description"}),
    "subnet": frozenset({"gateway_ip", "ipv6_address_mode", "ipv6_ra_mode", "subnetpool_id", "segment_id"}),
    "network": frozenset({"qos_policy_id", "ipv4_address_scope", "ipv6_address_scope", "dns_domain", "mtu"}),
    "router": frozenset({"external_gateway_info", "flavor_id", "service_type_id"}),
    "floatingip": frozenset({"fixed_ip_address", "port_id", "router_id", "port_details", "qos_policy_id"}),
    "port": frozenset({"qos_policy_id", "qos_network_policy_id", "data_plane_status", "hardware_offload_type",
                       "propagate_uplink_status", "trusted", "pvlan_community", "pvlan_type"}),
    "loadbalancer": frozenset({"vip_qos_policy_id", "flavor_id", "availability_zone", "vip_vnic_type",
                               "updated_at"}),
    "listener": frozenset({"default_pool_id", "default_tls_container_ref", "client_ca_tls_container_ref",
                           "client_crl_container_ref", "updated_at", "hsts_max_age", "alpn_protocols",
                           "tls_ciphers", "tls_versions"}),
    "pool": frozenset({"healthmonitor_id", "session_persistence", "ca_tls_container_ref", "crl_container_ref",
                       "tls_container_ref", "updated_at", "tls_ciphers", "tls_versions", "alpn_protocols"}),
    "member": frozenset({"monitor_address", "monitor_port", "subnet_id", "updated_at"}),
    "healthmonitor": frozenset({"http_method", "url_path", "expected_codes", "http_version", "domain_name",
                                "updated_at"}),
    "image": frozenset({"checksum", "size", "virtual_size", "os_hash_algo", "os_hash_value", "min_disk",
                        "min_ram", "container_format", "disk_format", "name"}),
    "region": frozenset({"parent_region_id"}),
}


def _items(doc: Any) -> list[dict[str, Any]]:
    """The resource objects a sample document holds: the items of its collection, or the one
    object under its single key."""
    for key, value in doc.items():
        if isinstance(value, list) and key not in ("tags", "links"):
            return [i for i in value if isinstance(i, dict)]
    if len(doc) == 1:
        return [next(iter(doc.values()))]
    return [doc]


@functools.cache
def sample_shape(resource: str) -> SampleShape:
    folder, files = SAMPLE_SETS[resource]
    samples: list[dict[str, Any]] = []
    for name in files:
        doc = _load(DATA / folder / name)
        if (resource == "image" and "images" not in doc) or resource == "router_interface":
            samples.append(doc)
        else:
            samples.extend(_items(doc))
    return SampleShape(samples)


def check_resource(resource: str, obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise ShapeError(f"{where}: a {resource} must be a JSON object, got {json_type(obj)}")
    sample_shape(resource).check(obj, where, NULLABLE.get(resource, frozenset()))
    if resource == "image":
        check_glance_image(obj)


#: Neutron/Octavia list envelopes may carry ``<collection>_links`` (the pagination sections of
#: Neutron's intro.inc and Octavia's general.inc)
def check_envelope(resource: str, collection: str | None, body: Any, where: str) -> None:
    if not isinstance(body, dict):
        raise ShapeError(f"{where}: the body must be a JSON object")
    if collection == "bare":  # Glance images and Neutron router interface answers have no envelope
        check_resource(resource, body, where)
        return
    if collection is None:
        if set(body) != {resource}:
            raise ShapeError(f"{where}: expected {{'{resource}': ...}}, got keys {sorted(body)}")
        check_resource(resource, body[resource], f"{where}.{resource}")
        return
    allowed = {collection, f"{collection}_links"}
    if resource == "image":
        allowed = {"images", "schema", "first", "next"}
    if resource == "region":
        allowed = {"regions", "links"}
    unknown = set(body) - allowed
    if unknown or collection not in body:
        raise ShapeError(f"{where}: list envelope keys {sorted(body)} (allowed {sorted(allowed)})")
    for i, item in enumerate(body[collection]):
        check_resource(resource, item, f"{where}.{collection}[{i}]")
    for link in body.get(f"{collection}_links", []):
        if set(link) != {"href", "rel"} or link["rel"] not in ("next", "previous"):
            raise ShapeError(f"{where}: bad pagination link {link}")


@functools.cache
def _glance_validator() -> Any:
    import jsonschema

    schema = _load(DATA / "glance" / "schemas-image-show-response.json")
    return jsonschema.Draft4Validator(schema)


def check_glance_image(image: dict[str, Any]) -> None:
    errors = list(_glance_validator().iter_errors(image))
    if errors:
        raise ShapeError(f"glance image: {errors[0].message}")
