"""Feature modules a deployment may never use, executed on first use rather than at cold start.

``lazy_module(name)`` is the standard library's recipe (``importlib.util.LazyLoader``): the module is found
and registered at import, and executed the first time one of its attributes is read. The router loads
frequency caps, digests, quiet-hours holding and the fallback's reachability probe this way: a deployment
whose catalog declares no cap, digest or fallback, and whose users set no quiet hours, never executes them
(about 12 million instructions, 2-3 ms of every cold start: docs/benchmarks.md); the first event that needs
one pays for it once per execution environment. Modules already imported (the tests import them directly)
are returned as they are.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, executed when one of its attributes is first read."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
