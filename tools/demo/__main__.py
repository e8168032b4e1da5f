"""``python -m tools.demo`` (`make demo`): see tools/demo/runner.py."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "lambda_src")]

from tools.demo.runner import main  # noqa: E402

sys.exit(main())
