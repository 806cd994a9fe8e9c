"""Image listing fit for a full catalog sync: every page of every image project, the "public"
alias for Google's public image projects, tiny pages."""

from __future__ import annotations

from typing import Any

import pytest

from mcinfra.core.errors import InvalidRequest
from mcinfra.drivers.gcp.options import PUBLIC_IMAGE_PROJECTS, GcpOptions
from tests.drivers.gcp.conftest import connect
from tests.fakes.gcp import GcpFake
from tests.fakes.gcp import catalog as fake_catalog


def _listed(fake: GcpFake, **options: Any) -> list[str]:
    conn = connect(fake, **options)
    try:
        return [i.iid.system_id for i in conn.images().list()]
    finally:
        conn.close()


def test_tiny_pages_list_the_same_images_as_one_page(fake: GcpFake) -> None:
    fake.reset()
    whole = _listed(fake)
    fake.clear_requests()
    paged = _listed(fake, image_page_size=1)
    assert paged == whole and len(whole) >= 4
    calls = fake.find("GET", r"/global/images$")
    # one request per image plus the last, empty-token one per project at most
    assert len(calls) >= len(whole) and {c.q("maxResults") for c in calls} == {"1"}
    assert fake.schema_errors == []


def test_public_alias_covers_every_public_project(fake: GcpFake) -> None:
    fake.reset()
    fake.clear_requests()
    listed = _listed(fake, image_projects=["public", "my-own-images"])
    asked = [c.path.split("/projects/", 1)[1].split("/", 1)[0] for c in fake.find("GET", r"/global/images$")]
    assert list(dict.fromkeys(asked)) == [*PUBLIC_IMAGE_PROJECTS, "my-own-images"]
    fake_ids = {f"{p}/{e[0]}" for p, entries in fake_catalog.IMAGES.items() for e in entries}
    assert set(listed) <= fake_ids and listed


def test_image_options_are_checked() -> None:
    assert GcpOptions.parse("gcp", {"image_projects": "public"}).image_projects == PUBLIC_IMAGE_PROJECTS
    with pytest.raises(InvalidRequest) as err:
        GcpOptions.parse("gcp", {"image_page_size": 0})
    assert err.value.field == "options.image_page_size"
