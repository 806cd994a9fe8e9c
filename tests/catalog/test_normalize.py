"""Normalisation on real image names of each cloud (names as published by the CSPs' image
finders; the mock's are its seed)."""

from __future__ import annotations

import pytest

from mcinfra.catalog import normalize as norm
from mcinfra.core.models import GpuInfo, SpecInfo


@pytest.mark.parametrize(("name", "family", "version", "arch"), [
    # AWS
    ("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301", "ubuntu", "22.04", "x86_64"),
    ("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20240423", "ubuntu", "24.04", "arm64"),
    ("al2023-ami-2023.3.20240219.0-kernel-6.1-x86_64", "amazon-linux", "2023", "x86_64"),
    ("amzn2-ami-hvm-2.0.20240306.2-arm64-gp2", "amazon-linux", "2", "arm64"),
    ("debian-12-amd64-20240201-1644", "debian", "12", "x86_64"),
    ("RHEL-9.3.0_HVM-20240117-x86_64-49-Hourly2-GP3", "rhel", "9.3", "x86_64"),
    ("Windows_Server-2022-English-Full-Base-2024.02.14", "windows", "2022", ""),
    ("suse-sles-15-sp5-v20240129-hvm-ssd-x86_64", "sles", "15.5", "x86_64"),
    ("Rocky-9-EC2-Base-9.3-20231113.0.x86_64", "rocky", "9", "x86_64"),
    # Azure URNs
    ("Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202403010", "ubuntu", "22.04", ""),
    ("Canonical:0001-com-ubuntu-server-focal:20_04-lts-arm64:20.04.202402010", "ubuntu", "20.04", "arm64"),
    ("MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:20348.2322.240205", "windows", "2022", ""),
    ("Debian:debian-12:12-gen2:0.20240211.1654", "debian", "12", ""),
    ("RedHat:RHEL:8_6:8.6.2022052413", "rhel", "8.6", ""),
    ("OpenLogic:CentOS:7_9-gen2:7.9.2022101800", "centos", "7.9", ""),
    # GCP families and images
    ("ubuntu-2204-lts", "ubuntu", "22.04", ""),
    ("ubuntu-2204-jammy-arm64-v20240301", "ubuntu", "22.04", "arm64"),
    ("debian-12-bookworm-v20240213", "debian", "12", ""),
    ("rocky-linux-9-optimized-gcp-v20240213", "rocky", "9", ""),
    ("centos-stream-9-v20240213", "centos", "9", ""),
    ("windows-server-2022-dc-v20240214", "windows", "2022", ""),
    ("cos-109-17800-147-15", "cos", "109", ""),
    # Alibaba
    ("ubuntu_22_04_x64_20G_alibase_20240220.vhd", "ubuntu", "22.04", "x86_64"),
    ("aliyun_3_x64_20G_alibase_20240220.vhd", "alibaba-cloud-linux", "3", "x86_64"),
    ("centos_7_9_x64_20G_alibase_20240220.vhd", "centos", "7.9", "x86_64"),
    ("win2022_21H2_x64_dtc_en-us_40G_alibase_20240220.vhd", "windows", "2022", "x86_64"),
    # Tencent
    ("Ubuntu Server 22.04 LTS 64bit", "ubuntu", "22.04", ""),
    ("TencentOS Server 3.1 (TK4)", "tencentos", "3.1", ""),
    ("CentOS 7.9 64bit", "centos", "7.9", ""),
    # OpenStack
    ("Ubuntu 22.04 LTS (Jammy Jellyfish)", "ubuntu", "22.04", ""),
    ("Fedora-Cloud-Base-39-1.5.x86_64", "fedora", "39", "x86_64"),
    ("CentOS-Stream-GenericCloud-9-20240212.0.x86_64", "centos", "9", "x86_64"),
    ("cirros-0.6.2-x86_64-disk", "cirros", "0.6", "x86_64"),
    # the mock's seed
    ("ubuntu-22.04-arm64", "ubuntu", "22.04", "arm64"),
    ("amazon-linux-2023", "amazon-linux", "2023", ""),
    ("opensuse-15.5", "opensuse", "15.5", ""),
    ("windows-2019", "windows", "2019", ""),
])
def test_os_and_arch_from_names(name: str, family: str, version: str, arch: str) -> None:
    assert norm.os_of(name) == (family, version)
    # without a marker in the name the declared architecture decides (x86_64 when none is declared)
    assert norm.arch_of("", name) == (arch or "x86_64")


def test_the_description_helps_and_the_platform_is_the_last_resort() -> None:
    assert norm.os_of("img-8toqc6s3", "Ubuntu Server 22.04 LTS 64bit") == ("ubuntu", "22.04")
    assert norm.os_of("ami-0abc", "", "Windows") == ("windows", "")
    assert norm.os_of("my-golden-image") == ("", "")


def test_declared_architecture_wins() -> None:
    assert norm.arch_of("aarch64", "ubuntu-2204-lts") == "arm64"
    assert norm.arch_of("x86_64", "whatever-arm64") == "x86_64"
    assert norm.arch_of("NA", "debian-12-arm64") == "arm64"
    assert norm.arch_of("", "") == ""


def test_specs_memory_gpus_and_prices() -> None:
    assert norm.memory_gb(512) == 0.5 and norm.memory_gb(3840) == 3.75
    spec = SpecInfo(name="p3.8xlarge", vcpus=32, memory_mib=249856,
                    gpus=[GpuInfo(count=4, manufacturer="NVIDIA", model="Tesla V100-SXM2-16GB")])
    assert norm.gpu_of(spec) == ("V100", 4)
    assert norm.gpu_of(SpecInfo(name="t3.micro", vcpus=2, memory_mib=1024)) == ("", 0)
    assert norm.gpu_model("nvidia-tesla-a100") == "A100"
    assert norm.gpu_model("NVIDIA H100 80GB HBM3") == "H100"
    assert norm.to_usd(1.0, "USD") == 1.0
    assert norm.to_usd(10.0, "cny") == pytest.approx(1.389)
    assert norm.to_usd(1.0, "XYZ") is None and norm.to_usd(None, "USD") is None


def test_rank_key_orders_plain_before_variants_then_newest_build() -> None:
    from mcinfra.catalog.normalize import rank_key

    names = ["cuda-ubuntu-22.04", "ubuntu-22.04",
             "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20240612",
             "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301",
             "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240612",
             "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202403010",
             "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202406120"]
    assert sorted(names, key=rank_key) == [
        "ubuntu-22.04", "cuda-ubuntu-22.04",
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240612",
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301",
        "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20240612",
        "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202406120",
        "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202403010"]
