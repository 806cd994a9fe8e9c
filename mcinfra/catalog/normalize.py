"""Pure functions that make catalog rows comparable across clouds: OS family and version from
each cloud's image naming, architecture, memory in GiB, GPU model and count, and prices in USD.

Every function takes what a driver returned and returns plain values; nothing here talks to a
cloud or the store. The rules are tables and regular expressions, tested on real names
(tests/catalog/test_normalize.py).
"""

from __future__ import annotations

import re
from datetime import date

from mcinfra.core.models import SpecInfo

# ------------------------------------------------------------------ OS family / version
#: (family, pattern that names it), most specific first: "rocky" before "centos" would not
#: matter, but "amazon linux" must win over a bare "linux" and "opensuse" over "suse"
FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((f, re.compile(p)) for f, p in (
    ("ubuntu", r"ubuntu|canonical"),
    ("debian", r"debian"),
    ("tencentos", r"tencent ?os|tlinux"),
    ("rocky", r"rocky"),
    ("almalinux", r"alma ?linux|almalinux|\balma\b"),
    ("centos", r"centos"),
    ("rhel", r"\brhel|red ?hat|redhat"),
    ("oracle-linux", r"oracle[\s_-]*linux|\boel\b|oraclelinux"),
    ("amazon-linux", r"amazon[\s_-]*linux|\bamzn|\bal20\d\d|\bal2\b"),
    ("alibaba-cloud-linux", r"aliyun|alibaba[\s_-]*cloud[\s_-]*linux|alinux"),
    ("opensuse", r"opensuse"),
    ("sles", r"\bsles|\bsuse"),
    ("fedora", r"fedora"),
    ("windows", r"windows|\bwin20\d\d|\bwin\d{4}"),
    ("freebsd", r"freebsd"),
    ("cos", r"\bcos(?=-(?:\d|stable|beta|dev))|container-optimized"),
    ("flatcar", r"flatcar"),
    ("cirros", r"cirros"),
))

UBUNTU_CODENAMES = {
    "trusty": "14.04", "xenial": "16.04", "bionic": "18.04", "focal": "20.04", "groovy": "20.10",
    "hirsute": "21.04", "impish": "21.10", "jammy": "22.04", "kinetic": "22.10", "lunar": "23.04",
    "mantic": "23.10", "noble": "24.04", "oracular": "24.10", "plucky": "25.04",
}
DEBIAN_CODENAMES = {"stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13"}

# "22.04", "22_04", "2204" (GCP), not inside a longer number (a date like 20240301)
_UBUNTU_VERSION = re.compile(r"(?<!\d)(1[4-9]|2\d)[._]?(04|10)(?!\d)")
_WINDOWS_VERSION = re.compile(r"(?:windows|win)[\s_:-]*(?:server[\s_:-]*)?(20\d\d|\d{4})(?!\d)")
_AMAZON_VERSION = re.compile(r"(?:\bal|amzn|amazon[\s_-]*linux)[\s_-]*(20\d\d|2)(?!\d)")
_SEP = r"[\s_:/.-]+"


def _family_version(family: str, text: str, start: int) -> str:
    """The version that follows the family's name in ``text`` (lower-cased), or ''."""
    if family == "ubuntu":
        for codename, version in UBUNTU_CODENAMES.items():
            if codename in text:
                return version
        m = _UBUNTU_VERSION.search(text, start)
        return f"{m.group(1)}.{m.group(2)}" if m else ""
    if family == "windows":
        m = _WINDOWS_VERSION.search(text)
        return m.group(1) if m else ""
    if family == "amazon-linux":
        m = _AMAZON_VERSION.search(text)
        return m.group(1) if m else ""
    if family == "debian":
        for codename, version in DEBIAN_CODENAMES.items():
            if codename in text:
                return version
    # the first number after the family's name, skipping up to three words (server, stream, cloud...)
    m = re.compile(rf"(?:{_SEP}[a-z]+){{0,3}}?{_SEP}?(\d{{1,4}})(?:[._](\d{{1,2}})(?!\d))?(?:[_-]?sp(\d))?"
                   ).match(text, start)
    if not m:
        return ""
    major, minor, service_pack = m.groups()
    if len(major) > 2 and family not in ("cos",):
        return ""  # a build number or a date, not a version
    minor = minor or service_pack
    return f"{int(major)}.{int(minor)}" if minor is not None else str(int(major))


def os_of(name: str, distribution: str = "", platform: str = "") -> tuple[str, str]:
    """(family, version) of an image from its name and description, e.g.
    ``ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301`` -> ("ubuntu", "22.04"),
    ``Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202403010`` -> ("ubuntu", "22.04"),
    ``ubuntu-2204-lts`` -> ("ubuntu", "22.04"). Unknown: ("", "") — or ("windows", "") when only
    the platform says Windows."""
    for text in (f"{distribution} {name}".lower(), name.lower()):
        for family, pattern in FAMILIES:
            m = pattern.search(text)
            if m:
                version = _family_version(family, text, m.end())
                if not version and text != name.lower():
                    version = _family_version(family, name.lower(), 0)
                return family, version
    if platform.lower().startswith("windows"):
        return "windows", ""
    return "", ""


# ------------------------------------------------------------------ static rank
#: a build date in an image name: AWS ``...-20240301``, GCP ``...-v20240301``, Azure ``22.04.202403010``
_BUILD_DATE = re.compile(r"(?<!\d)(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
RANK_DATE_SPAN = 100_000_000


def rank_key(name: str) -> int:
    """The static order of images of one OS family and version, smallest first: the shortest
    name first (the plain image before its variants: ``ubuntu-22.04`` before
    ``cuda-ubuntu-22.04``, ``hvm-ssd`` before ``hvm-ssd-gp3``), then the newest build date the
    name carries. Kept in an indexed column, so a search ranks without reading every match."""
    dates = [int(d) for d in _BUILD_DATE.findall(name)]
    newest = max(dates) if dates else 0
    return len(name) * RANK_DATE_SPAN + (RANK_DATE_SPAN - 1 - newest)


# ------------------------------------------------------------------ architecture
_ARM = re.compile(r"arm64|aarch64|graviton|(?<![a-z])arm(?![a-z])")
_X86 = re.compile(r"x86[_-]?64|amd64|(?<![a-z0-9])x64(?![0-9])|(?<![a-z])x86(?![a-z0-9])")
_I386 = re.compile(r"i[36]86")


def arch_of(declared: str = "", name: str = "") -> str:
    """'x86_64', 'arm64', 'i386' or '' (unknown): the driver's declared architecture when it
    names one, else what the image name says."""
    for text in (declared.lower(), name.lower()):
        if not text or text in ("na", "n/a", "unknown"):
            continue
        if _ARM.search(text):
            return "arm64"
        if _X86.search(text):
            return "x86_64"
        if _I386.search(text):
            return "i386"
    return "x86_64" if name and not declared else ""


# ------------------------------------------------------------------ specs
def memory_gb(memory_mib: int) -> float:
    """MiB -> GiB, rounded to 3 places (0.5, 1, 3.75, 61...)."""
    return round(memory_mib / 1024, 3)


_GPU_NOISE = re.compile(r"\b(nvidia|amd|tesla|geforce|radeon|instinct|intel|gpu)\b", re.I)
_GPU_MODEL = re.compile(r"([A-Za-z]+\d+[A-Za-z]*)")


def gpu_model(raw: str) -> str:
    """A GPU's model as users search for it: "NVIDIA Tesla V100-SXM2-16GB" -> "V100",
    "nvidia-tesla-a100" -> "A100", "A10G" -> "A10G"."""
    text = _GPU_NOISE.sub(" ", raw.replace("-", " ").replace("_", " "))
    m = _GPU_MODEL.search(text)
    return m.group(1).upper() if m else text.strip().upper()


def gpu_of(spec: SpecInfo) -> tuple[str, int]:
    """(model, count) of a spec's GPUs; ("", 0) without any."""
    if not spec.gpus:
        return "", 0
    return gpu_model(spec.gpus[0].model or spec.gpus[0].manufacturer), sum(g.count for g in spec.gpus)


# ------------------------------------------------------------------ prices
#: USD per unit of each currency, a static table (no network): reference rates of its date.
#: Prices keep their original amount and currency beside the converted figure.
RATES_DATE = date(2024, 3, 1)
USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "CNY": 0.1389, "EUR": 1.0838, "GBP": 1.2656, "JPY": 0.006667, "KRW": 0.000750,
    "HKD": 0.1278, "SGD": 0.7436, "INR": 0.01207, "AUD": 0.6519, "CAD": 0.7364, "BRL": 0.2016,
}


def to_usd(amount: float | None, currency: str) -> float | None:
    """``amount`` of ``currency`` in USD by :data:`USD_PER_UNIT` (None for an unknown currency)."""
    if amount is None:
        return None
    rate = USD_PER_UNIT.get(currency.upper())
    return None if rate is None else round(amount * rate, 6)
