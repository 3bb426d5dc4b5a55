"""Fallback servers (lifeline_config.fallback_urls): a list of URLs, checked
by the library (lifeline_config_check() names the field), tried by the
library's rule; the binding only passes the list and reads url_index.
url is a closed port (bound, never listening), the fallback a live
lifeline-server."""
from __future__ import annotations

import socket

import pytest

import lifeline
from lifeline import ErrorCode, State, _ffi

from conftest import FAST, echo


@pytest.fixture
def closed_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # held, never listening: refused
        yield f"ws://127.0.0.1:{s.getsockname()[1]}/ws?token=dead-secret"


def test_fallback_urls_default_to_none_and_a_bad_one_is_named_by_the_library():
    assert lifeline.default_options()["fallback_urls"] == []
    for bad in (["http://b/ws"], ["ws://b/ws", "ws://"], ["ws://b/ws"] * 33):
        with pytest.raises(lifeline.ConfigError) as e:
            lifeline.Client("ws://a/ws", fallback_urls=bad)
        assert e.value.code == ErrorCode.CONFIG_FALLBACK_URL
        assert e.value.option == "fallback_urls"
    # a list as url is the same list
    with pytest.raises(lifeline.ConfigError) as e:
        lifeline.Client(["ws://a/ws", "http://b/ws"])
    assert e.value.option == "fallback_urls"
    with pytest.raises(TypeError):
        lifeline.Client("ws://a/ws", fallback_urls="ws://b/ws")  # a str is not a list
    with pytest.raises(TypeError):
        lifeline.Client(["ws://a/ws", "ws://b/ws"], fallback_urls=["ws://c/ws"])
    with pytest.raises(TypeError):
        lifeline.Client([])


@pytest.mark.parametrize("as_list", [False, True])
def test_a_dead_first_url_lands_on_the_fallback_and_says_which(server, recorder, closed_url,
                                                               as_list):
    urls = dict(url=[closed_url, server.url()]) if as_list else dict(
        url=closed_url, fallback_urls=[server.url()])
    with lifeline.Client(**urls, **recorder.callbacks(), **FAST) as c:
        assert c.url == closed_url
        i, failed = recorder.wait_state(State.DISCONNECTED)
        assert failed[4].url_index == 0 and failed[4].error == "CONNECTION_REFUSED"
        assert "dead-secret" not in failed[4].url and "token=***" in failed[4].url
        _, landed = recorder.wait_state(State.CONNECTED, after=i)
        info = landed[4]
        assert info.url_index == 1
        assert info.url == _ffi.redact_url(server.url())
        assert c.stats().url_index == 1
        c.send(echo("via the fallback"))
        recorder.wait(lambda evs: "via the fallback" in recorder.echoes(), 5, "the echo")
