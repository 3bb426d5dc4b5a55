"""The README's Python examples: each passes mypy --strict (with the
package's own sources, which must too), and the asyncio one runs against
lifeline-server and sees the first state change."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

import lifeline
from lifeline import State

BINDING = Path(__file__).resolve().parents[1]
README = BINDING / "README.md"
PACKAGE = BINDING / "src" / "lifeline"
# the oldest Python the package supports (pyproject.toml, requires-python)
OLDEST_PYTHON = "3.9"
EXAMPLE_URL = "ws://127.0.0.1:8080/ws?store=12&user=till-3"


def python_blocks() -> List[str]:
    """The README's ```python code blocks, in order."""
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def block_with(marker: str) -> str:
    [block] = [b for b in python_blocks() if marker in b]
    return block


def test_the_asyncio_example_sees_the_first_state_change(server):
    code = block_with("asyncio.run(")
    assert EXAMPLE_URL in code
    printed: List[Any] = []
    # print() in the example is looked up in its globals: collect instead
    exec(compile(code.replace(EXAMPLE_URL, server.url()), "README.md", "exec"),
         {"__name__": "readme_example", "print": printed.append})
    first = printed[0]
    assert isinstance(first, lifeline.StateEvent)
    assert (first.old, first.new) == (State.IDLE, State.CONNECTING)
    assert any(isinstance(e, lifeline.StateEvent) and e.new is State.CONNECTED
               for e in printed)
    assert isinstance(printed[-1], lifeline.MessageEvent)
    assert "hello" in printed[-1].data


def test_the_readme_examples_and_the_package_pass_mypy_strict(tmp_path):
    """Every ```python block of the README, as a module of its own, and the
    package's sources, under mypy --strict. mypy is a test dependency:
    without it this test fails rather than skips (Debian: python3-mypy,
    which scripts/deps installs; the test venv sees it through
    --system-site-packages)."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail(f"mypy is not installed for {sys.executable}: install python3-mypy "
                    "(scripts/deps) or pip install mypy; the README's examples are "
                    "checked with it", pytrace=False)
    blocks = python_blocks()
    assert blocks, "the README has no ```python block (or the pattern misses them)"
    files = []
    for i, block in enumerate(blocks):
        f = tmp_path / f"readme_example_{i}.py"
        f.write_text(block, encoding="utf-8")
        files.append(str(f))
    # the package's sources, not an installed copy: the examples are checked
    # against the lifeline of this tree, and it against --strict
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", OLDEST_PYTHON,
         "--cache-dir", str(tmp_path / "mypy-cache"), *files, str(PACKAGE)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    if run.returncode != 0:
        numbered = "\n\n".join(
            f"readme_example_{i}.py:\n" + "\n".join(
                f"{n:3} {line}" for n, line in enumerate(b.splitlines(), 1))
            for i, b in enumerate(blocks))
        pytest.fail(f"mypy --strict:\n{run.stdout}{run.stderr}\nthe blocks:\n{numbered}",
                    pytrace=False)
