# Shared by scripts/run, scripts/test and scripts/check: make .venv and install exactly the
# lock (requirements/dev.txt, with hashes), then the project itself without dependencies.
# Safe to run again: it reinstalls only when the lock or pyproject.toml changed. When the
# dependency ranges in pyproject.toml changed since the lock was made, it stops and asks
# for `scripts/lock`, so nothing installs outside the lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "需要 Python 3.11 或更高版本 (Python 3.11+ is required)" >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
fi

wanted=$(.venv/bin/python scripts/_lock_inputs.py)
for lock in requirements/runtime.txt requirements/dev.txt; do
  if ! grep -qx "# lock-inputs: $wanted" "$lock" 2>/dev/null; then
    echo "锁文件已过期：pyproject.toml 的依赖变了，请运行 scripts/lock 并提交 requirements/ (the lock is stale: dependencies in pyproject.toml changed; run scripts/lock and commit requirements/)" >&2
    exit 1
  fi
done

stamp=.venv/.installed-$(cat requirements/dev.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
  if ! .venv/bin/python -m pip install --quiet --no-deps -e . >.venv/install.log 2>&1; then
    cat .venv/install.log >&2; exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
