from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mcinfra.core.handlers import NameRules
from mcinfra.core.models import NAME_PATTERN
from mcinfra.core.naming import SUFFIX_LEN, csp_name

names = st.from_regex(NAME_PATTERN, fullmatch=True)


@given(names, st.integers(min_value=12, max_value=255))
def test_csp_names_fit_the_provider(name: str, max_length: int) -> None:
    rules = NameRules(max_length=max_length, reserved_prefixes=("sg-",))
    out = csp_name(name, "security_group", rules)
    assert len(out) <= max_length
    assert out == out.lower() and out[0].isalpha()
    assert not out.startswith("sg-")
    assert out[-SUFFIX_LEN:].isalnum()


def test_suffix_makes_names_unique() -> None:
    rules = NameRules()
    assert len({csp_name("vpc-01", "vpc", rules) for _ in range(1000)}) == 1000


def test_separator_and_per_kind_length() -> None:
    out = csp_name("my_vm-01", "vm", NameRules(separator="_", max_length_by_kind={"vm": 20}))
    assert "-" not in out and len(out) <= 20 and out.startswith("my_vm_01")
