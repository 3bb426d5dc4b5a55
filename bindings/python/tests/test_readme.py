"""The README's Python examples: the asyncio one runs against lifeline-server
and sees the first state change."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List

import lifeline
from lifeline import State

README = Path(__file__).resolve().parents[1] / "README.md"
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
