"""Route registration with the published-material checks wrapped around every handler.

``Checker.add(table, service, method, template, handler, op=..., shape=...)`` registers a route
whose answers are checked before they leave the fake: the status against the api-ref entry
``op`` ("POST /v2.0/networks"), the body against ``shape``:

* ``("nova", module, schema_name, sample_api, sample_file)``: Tempest's schema at the request's
  microversion, then the key comparison with Nova's api sample at that microversion;
* ``("resource", name, collection)``: Neutron/Octavia/Glance/Keystone api-ref samples
  (``collection`` None for a single object);
* ``("keys", fixture_path)``: same key set as a published document (version documents).

A body that fails is answered with a 500 and recorded in ``errors``, so a wrong fake fails its test.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

from tests.fakes.openstack import validate
from tests.fakes.server import HttpError, Request, Response, RouteTable

Shape = tuple[Any, ...] | None

#: the microversion a request without ``OpenStack-API-Version`` gets (Nova's minimum)
NOVA_MIN = "2.1"


def header(req: Request, name: str) -> str | None:
    for k, v in req.headers.items():
        if k.lower() == name.lower():
            return v
    return None


def microversion(req: Request) -> str:
    value = header(req, "OpenStack-API-Version") or ""
    parts = value.split()
    if len(parts) == 2 and parts[0] == "compute":
        return parts[1]
    return header(req, "X-OpenStack-Nova-API-Version") or NOVA_MIN


class Checker:
    def __init__(self, nova_max: str) -> None:
        self.nova_max = nova_max
        self.errors: list[str] = []
        self.validated = 0
        self.enabled = True

    def add(
        self,
        table: RouteTable,
        service: str,
        method: str,
        template: str,
        handler: Callable[[Request], Any],
        *,
        op: str | Callable[[Request], str] | None,
        shape: Shape = None,
    ) -> None:
        def checked(req: Request) -> Response:
            op_key = op(req) if callable(op) else op
            if service == "compute":
                self._check_microversion(req)
            try:
                out = handler(req)
            except HttpError as exc:
                self._status(service, op_key, exc.status)
                raise
            except Exception as exc:  # a bug in the fake: loud, never a dropped connection
                self.errors.append(f"{method} {template}: fake crashed: {traceback.format_exc(limit=-3)}")
                raise HttpError(500, "fakeSchemaError", f"fake crashed: {exc!r}") from None
            resp = out if isinstance(out, Response) else Response(200, out)
            self._status(service, op_key, resp.status)
            if service == "compute":
                resp.headers.setdefault("OpenStack-API-Version", f"compute {microversion(req)}")
                resp.headers.setdefault("Vary", "OpenStack-API-Version")
            if self.enabled and shape is not None and 200 <= resp.status < 300:
                try:
                    self._shape(shape, req, resp)
                except Exception as exc:  # ShapeError, or a check that could not even run: both loud
                    self.errors.append(f"{method} {template}: {exc!r}")
                    raise HttpError(500, "fakeSchemaError", str(exc)) from None
                self.validated += 1
            return resp

        table.add(method, template, checked, schema=service)

    def _check_microversion(self, req: Request) -> None:
        asked = microversion(req)
        if tuple(map(int, asked.split("."))) > tuple(map(int, self.nova_max.split("."))):
            raise HttpError(406, "nova", f"Version {asked} is not supported by the API. Minimum is 2.1 and "
                            f"maximum is {self.nova_max}.")

    def _status(self, service: str, op: str | None, status: int) -> None:
        if status == 500:
            return  # the fake's own schema failures; recorded separately
        try:
            validate.check_status(service, op, status)
        except validate.ShapeError as exc:
            self.errors.append(str(exc))

    def _shape(self, shape: tuple[Any, ...], req: Request, resp: Response) -> None:
        kind = shape[0]
        if kind == "nova":
            _, module, name, sample_api, sample_file = shape
            mv = microversion(req)
            validate.check_tempest(module, name, mv, resp.status, resp.body)
            if sample_file and resp.body is not None:
                validate.compare_keys(validate.nova_sample(sample_api, sample_file, mv), resp.body)
        elif kind == "resource":
            _, resource, collection = shape
            validate.check_envelope(resource, collection, resp.body, f"{resource}")
        elif kind == "keys":
            published = json.loads((validate.DATA / shape[1]).read_text())
            validate.compare_keys(published, resp.body)
        else:  # pragma: no cover - a typo in a route table
            raise validate.ShapeError(f"unknown shape {shape!r}")
