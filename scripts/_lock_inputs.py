"""Print a digest of what the lock is made from: pyproject.toml's dependency ranges.

`scripts/lock` writes it into the lock files; `scripts/_setup.sh` compares it with the
current pyproject.toml so a changed range never installs outside the lock. Other edits
of pyproject.toml (tool settings) leave the lock valid.
"""

import hashlib
import json
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
inputs = {key: project.get(key) for key in ("requires-python", "dependencies", "optional-dependencies")}
sys.stdout.write(hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16] + "\n")
