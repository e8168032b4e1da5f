"""Records: the handlers' value types are ``typing.NamedTuple`` classes, not frozen dataclasses.

A frozen dataclass generates and compiles its methods when its module is imported: about 4.4 million
instructions (~0.7 ms) per class on the Lambda runtime's CPython 3.12, against about 0.8 million for a
NamedTuple (callgrind, docs/benchmarks.md, cold start). With some 25 classes behind the router, that was a
third of its cold start. A NamedTuple has no default factory: an empty mapping default is this shared,
read-only ``EMPTY_MAPPING``, which no record can change.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

EMPTY_MAPPING: Final[Mapping[str, Any]] = MappingProxyType({})
