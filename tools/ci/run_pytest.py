"""Run pytest and refuse a run that collected no tests (pytest's exit code 5).

A suite that silently stops collecting must fail CI, not pass it: exit code 5 becomes 1 with a message.
"""

from __future__ import annotations

import sys

import pytest

NO_TESTS_COLLECTED = 5

if __name__ == "__main__":
    code = pytest.main(sys.argv[1:])
    if code == NO_TESTS_COLLECTED:
        print(
            f"pytest collected no tests for {' '.join(sys.argv[1:])}: treating that as a failure",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(int(code))
