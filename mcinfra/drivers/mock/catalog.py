"""The mock's seeded catalog: 4 regions x 3 zones (one zone Unavailable), images, specs and prices."""

from __future__ import annotations

from typing import Protocol

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import ImageHandler, PriceHandler, RegionZoneHandler, SpecHandler
from mcinfra.core.models import IID, GpuInfo, ImageInfo, PriceInfo, RegionZoneInfo, SpecInfo, ZoneInfo, ZoneStatus

DEFAULT_REGION = "default"
REGIONS = ("default", "mercury", "venus", "mars")
UNAVAILABLE_ZONES = frozenset({"mars-c"})


def zones_of(region: str) -> list[ZoneInfo]:
    return [
        ZoneInfo(name=f"{region}-{z}", display_name=f"{region.title()} {z.upper()}",
                 status=ZoneStatus.UNAVAILABLE if f"{region}-{z}" in UNAVAILABLE_ZONES else ZoneStatus.AVAILABLE)
        for z in "abc"
    ]


def _image(name: str, dist: str, arch: str = "x86_64", platform: str = "Linux/UNIX", size: int = 8) -> ImageInfo:
    return ImageInfo(iid=IID(name_id=name, system_id=name), name=name, os_architecture=arch, os_platform=platform,
                     os_distribution=dist, os_disk_type="gp3", os_disk_size_gb=size)


IMAGES = {i.name: i for i in [
    _image("ubuntu-18.04", "Ubuntu 18.04 LTS"),
    _image("ubuntu-20.04", "Ubuntu 20.04 LTS"),
    _image("ubuntu-22.04", "Ubuntu 22.04 LTS"),
    _image("ubuntu-24.04", "Ubuntu 24.04 LTS"),
    _image("ubuntu-22.04-arm64", "Ubuntu 22.04 LTS", "arm64"),
    _image("ubuntu-24.04-arm64", "Ubuntu 24.04 LTS", "arm64"),
    _image("debian-11", "Debian 11"),
    _image("debian-12", "Debian 12"),
    _image("debian-12-arm64", "Debian 12", "arm64"),
    _image("centos-stream-9", "CentOS Stream 9", size=10),
    _image("rocky-8", "Rocky Linux 8", size=10),
    _image("rocky-9", "Rocky Linux 9", size=10),
    _image("almalinux-9", "AlmaLinux 9", size=10),
    _image("fedora-40", "Fedora 40", size=10),
    _image("amazon-linux-2", "Amazon Linux 2"),
    _image("amazon-linux-2023", "Amazon Linux 2023"),
    _image("amazon-linux-2023-arm64", "Amazon Linux 2023", "arm64"),
    _image("opensuse-15.5", "openSUSE Leap 15.5", size=10),
    _image("sles-15", "SUSE Linux Enterprise Server 15", size=10),
    _image("windows-2019", "Windows Server 2019", platform="Windows", size=30),
    _image("windows-2022", "Windows Server 2022", platform="Windows", size=30),
    _image("cuda-ubuntu-22.04", "Ubuntu 22.04 LTS + CUDA 12", size=50),
]}


def _spec(name: str, vcpus: int, mem_gib: float, price: float, arch: str = "x86_64",
          gpus: tuple[int, str, str, float] | None = None) -> SpecInfo:
    return SpecInfo(name=name, vcpus=vcpus, memory_mib=int(mem_gib * 1024), architecture=arch, price_per_hour=price,
                    clock_ghz=2.5, gpus=[GpuInfo(count=gpus[0], manufacturer=gpus[1], model=gpus[2], memory_gb=gpus[3])]
                    if gpus else [])


SPECS = {s.name: s for s in [
    _spec("t2.nano", 1, 0.5, 0.0058),
    _spec("t2.micro", 1, 1, 0.0116),
    _spec("t2.small", 1, 2, 0.023),
    _spec("t2.medium", 2, 4, 0.0464),
    _spec("t2.large", 2, 8, 0.0928),
    _spec("t3.micro", 2, 1, 0.0104),
    _spec("t3.small", 2, 2, 0.0208),
    _spec("m5.large", 2, 8, 0.096),
    _spec("m5.xlarge", 4, 16, 0.192),
    _spec("m5.2xlarge", 8, 32, 0.384),
    _spec("c5.large", 2, 4, 0.085),
    _spec("c5.xlarge", 4, 8, 0.17),
    _spec("c5.4xlarge", 16, 32, 0.68),
    _spec("r5.large", 2, 16, 0.126),
    _spec("r5.xlarge", 4, 32, 0.252),
    _spec("a1.large", 2, 4, 0.051, "arm64"),
    _spec("t4g.micro", 2, 1, 0.0084, "arm64"),
    _spec("g4dn.xlarge", 4, 16, 0.526, gpus=(1, "NVIDIA", "T4", 16)),
    _spec("g5.xlarge", 4, 16, 1.006, gpus=(1, "NVIDIA", "A10G", 24)),
    _spec("p3.2xlarge", 8, 61, 3.06, gpus=(1, "NVIDIA", "V100", 16)),
    _spec("p3.8xlarge", 32, 244, 12.24, gpus=(4, "NVIDIA", "V100", 16)),
    _spec("p4d.24xlarge", 96, 1152, 32.77, gpus=(8, "NVIDIA", "A100", 40)),
]}


class MockRegionZones(RegionZoneHandler):
    def list(self) -> list[RegionZoneInfo]:
        return [RegionZoneInfo(name=r, display_name=f"Mock {r.title()}", zones=zones_of(r)) for r in REGIONS]


class Pause(Protocol):
    def pause(self) -> float: ...


class _NoPause:
    def pause(self) -> float:
        return 0.0


class MockImages(ImageHandler):
    """The seed's images; each call waits the connection's latency, as the mock's other calls do."""

    def __init__(self, *, behaviour: Pause | None = None) -> None:
        self.behaviour = behaviour or _NoPause()

    def list(self) -> list[ImageInfo]:
        self.behaviour.pause()
        return list(IMAGES.values())

    def get(self, name: str) -> ImageInfo:
        self.behaviour.pause()
        try:
            return IMAGES[name]
        except KeyError:
            raise NotFound(f"image {name!r} not found in the mock catalog") from None


class MockSpecs(SpecHandler):
    def __init__(self, region: str, behaviour: Pause | None = None) -> None:
        self.region = region
        self.behaviour = behaviour or _NoPause()

    def list(self) -> list[SpecInfo]:
        self.behaviour.pause()
        return [s.model_copy(update={"region": self.region}) for s in SPECS.values()]

    def get(self, name: str) -> SpecInfo:
        self.behaviour.pause()
        try:
            return SPECS[name].model_copy(update={"region": self.region})
        except KeyError:
            raise NotFound(f"spec {name!r} not found in the mock catalog") from None


class MockPrices(PriceHandler):
    """The seed's on-demand prices (USD per hour), the same in every mock region."""

    def __init__(self, region: str, behaviour: Pause | None = None) -> None:
        self.region = region
        self.behaviour = behaviour or _NoPause()

    def list(self) -> list[PriceInfo]:
        self.behaviour.pause()
        return [PriceInfo(spec=s.name, region=self.region, price_per_hour=s.price_per_hour or 0.0,
                          currency="USD", source="mock-seed") for s in SPECS.values()]
