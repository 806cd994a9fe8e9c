"""Keystone (version discovery, tokens with a catalog, regions), the version documents of the
other services, and Glance v2 images."""

from __future__ import annotations

from typing import Any

from tests.fakes.openstack.checks import Checker
from tests.fakes.openstack.state import PROJECT_ID, REGION, USER_ID, CloudState, filtered
from tests.fakes.server import HttpError, Request, Response, RouteTable

#: service type -> (catalog name, path under the fake's root)
SERVICES = {
    "identity": ("keystone", "/identity/v3"),
    "compute": ("nova", "/compute/v2.1"),
    "network": ("neutron", "/network"),
    "image": ("glance", "/image"),
    "load-balancer": ("octavia", "/load-balancer"),
}


class Credentials:
    """Who may log in: a password user and an application credential."""

    def __init__(self) -> None:
        self.users = {"admin": "s3cret-pw"}
        self.app_credentials = {"ac-1": "ac-s3cret"}
        self.project = "demo"
        self.tokens_issued = 0


def unauthorized() -> HttpError:
    return HttpError(401, "keystone", "The request you have made requires authentication.")


def add_identity_routes(t: RouteTable, check: Checker, state: CloudState, creds: Credentials, url: Any) -> None:
    def identity_version() -> dict[str, Any]:
        return {"id": "v3.14", "links": [{"href": f"{url()}/identity/v3/", "rel": "self"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}],
                "status": "stable", "updated": "2024-04-03T00:00:00Z"}

    def versions(req: Request) -> Response:
        # Keystone answers its root with 300 Multiple Choices
        return Response(300, {"versions": {"values": [identity_version()]}})

    def version(req: Request) -> dict[str, Any]:
        return {"version": identity_version()}

    for path in ("/identity", "/identity/"):
        check.add(t, "identity", "GET", path, versions, op=None,
                  shape=("keys", "keystone/identity-versions-response.json"))
    for path in ("/identity/v3", "/identity/v3/"):
        check.add(t, "identity", "GET", path, version, op=None,
                  shape=("keys", "keystone/identity-version-response.json"))

    def token(req: Request) -> Response:
        from keystoneauth1 import fixture

        auth = (req.body or {}).get("auth", {})
        ident = auth.get("identity", {})
        methods = ident.get("methods", [])
        if "password" in methods:
            user = ident.get("password", {}).get("user", {})
            if creds.users.get(user.get("name")) != user.get("password"):
                raise unauthorized()
        elif "application_credential" in methods:
            ac = ident.get("application_credential", {})
            if creds.app_credentials.get(ac.get("id")) != ac.get("secret"):
                raise unauthorized()
        else:
            raise unauthorized()
        token = fixture.V3Token(project_id=PROJECT_ID, project_name=creds.project, project_domain_id="default",
                                user_id=USER_ID, user_name="admin", user_domain_id="default")
        for stype, (name, path) in SERVICES.items():
            token.add_service(stype, name=name).add_standard_endpoints(public=url() + path, region=REGION)
        creds.tokens_issued += 1
        return Response(201, dict(token), {"X-Subject-Token": f"fake-token-{creds.tokens_issued}"})

    check.add(t, "identity", "POST", "/identity/v3/auth/tokens", token, op=None)

    def region(name: str) -> dict[str, Any]:
        return {"description": "", "id": name, "links": {"self": f"{url()}/identity/v3/regions/{name}"},
                "parent_region_id": None}

    def list_regions(req: Request) -> dict[str, Any]:
        return {"regions": [region(r) for r in state.catalog.regions],
                "links": {"next": None, "previous": None, "self": f"{url()}/identity/v3/regions"}}

    def get_region(req: Request) -> dict[str, Any]:
        rid = req.params["region_id"]
        if rid not in state.catalog.regions:
            raise HttpError(404, "keystone", f"Could not find region: {rid}.")
        return {"region": region(rid)}

    check.add(t, "identity", "GET", "/identity/v3/regions", list_regions, op=None,
              shape=("resource", "region", "regions"))
    check.add(t, "identity", "GET", "/identity/v3/regions/{region_id}", get_region, op=None,
              shape=("resource", "region", None))


def add_discovery_routes(t: RouteTable, check: Checker, nova_max: str, url: Any) -> None:
    def compute_version() -> dict[str, Any]:
        return {"id": "v2.1", "status": "CURRENT", "version": nova_max, "min_version": "2.1",
                "updated": "2013-07-23T11:33:21Z", "links": [{"href": f"{url()}/compute/v2.1/", "rel": "self"}]}

    for path in ("/compute", "/compute/"):
        check.add(t, "compute", "GET", path, lambda req: {"versions": [compute_version()]}, op=None,
                  shape=("keys", "discovery/compute-version.json"))
    for path in ("/compute/v2.1", "/compute/v2.1/"):
        check.add(t, "compute", "GET", path, lambda req: {"version": compute_version()}, op=None)

    def image_versions(req: Request) -> Response:
        return Response(300, {"versions": [
            {"status": "CURRENT", "id": "v2.16", "links": [{"href": f"{url()}/image/v2/", "rel": "self"}]}]})

    for path in ("/image", "/image/"):
        check.add(t, "image", "GET", path, image_versions, op=None,
                  shape=("keys", "discovery/image-version.json"))


def add_image_routes(t: RouteTable, check: Checker, state: CloudState) -> None:
    def image(spec: dict[str, Any]) -> dict[str, Any]:
        iid = spec["id"]
        return {
            "status": "active", "name": spec["name"], "tags": [], "container_format": "bare",
            "created_at": "2026-01-05T10:00:00Z", "disk_format": "qcow2", "updated_at": "2026-01-05T10:05:00Z",
            "visibility": "public", "self": f"/v2/images/{iid}", "min_disk": 0, "protected": False, "id": iid,
            "file": f"/v2/images/{iid}/file", "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
            "os_hash_algo": "sha512", "os_hash_value": "0" * 128, "os_hidden": False,
            "owner": "5ef70662f8b34079a6eddb8da9d75fe8", "size": 13167616, "min_ram": 0,
            "schema": "/v2/schemas/image", "virtual_size": None,
        }

    def list_images(req: Request) -> dict[str, Any]:
        items = filtered(req, [image(i) for i in state.catalog.images], ("name", "visibility", "status"))
        marker = req.q("marker")
        if marker:
            ids = [i["id"] for i in items]
            if marker not in ids:
                raise HttpError(400, "glance", f"marker {marker} could not be found.")
            items = items[ids.index(marker) + 1 :]
        size = min(int(req.q("limit") or state.page_size), state.page_size)
        out: dict[str, Any] = {"images": items[:size], "schema": "/v2/schemas/images", "first": "/v2/images"}
        if len(items) > size:
            out["next"] = f"/v2/images?marker={items[size - 1]['id']}&limit={size}"
        return out

    def get_image(req: Request) -> dict[str, Any]:
        for spec in state.catalog.images:
            if spec["id"] == req.params["image_id"]:
                return image(spec)
        raise HttpError(404, "glance", f"No image found with ID {req.params['image_id']}")

    check.add(t, "image", "GET", "/image/v2/images", list_images, op="GET /v2/images",
              shape=("resource", "image", "images"))
    check.add(t, "image", "GET", "/image/v2/images/{image_id}", get_image, op="GET /v2/images/{id}",
              shape=("resource", "image", "bare"))
