from __future__ import annotations

import sys
from pathlib import Path

# merchant_fake_bureau lives beside the tests; --import-mode=importlib does not put this folder on the path.
sys.path.insert(0, str(Path(__file__).parent))
