"""Bad options raise ValueError (or TypeError for a wrong type) naming the
option, before anything is started. No server needed: nothing connects."""
from __future__ import annotations

import pytest

import lifeline
from lifeline import ErrorCode

URL = "ws://127.0.0.1:9/ws"


def make(**kw):
    c = lifeline.Client(kw.pop("url", URL), **kw)
    c.close()


def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="base_delay"):
        make(base_delay=100)
    with pytest.raises(TypeError, match="on_mesage"):
        make(on_mesage=print)


@pytest.mark.parametrize(
    "option",
    ["base_delay_ms", "max_delay_ms", "jitter_ms", "max_attempts", "stable_after_ms",
     "down_ping_interval_ms", "connect_timeout_ms", "ping_interval_ms", "ping_timeout_ms",
     "rtt_good_ms", "rtt_poor_ms", "alert_min_interval_ms", "max_message_bytes",
     "queue_max_messages", "queue_max_bytes", "random_seed"],
)
def test_a_negative_value_names_its_field(option):
    with pytest.raises(ValueError, match=rf"^{option}: ") as e:
        make(**{option: -1})
    assert e.value.code == ErrorCode.CONFIG_NEGATIVE
    assert e.value.option == option


@pytest.mark.parametrize(
    "kw,option,code",
    [
        (dict(url="http://example.com/"), "url", ErrorCode.CONFIG_URL),
        (dict(url="ws://"), "url", ErrorCode.CONFIG_URL),
        (dict(base_delay_ms=0), "base_delay_ms", ErrorCode.CONFIG_BASE_DELAY),
        (dict(base_delay_ms=500, max_delay_ms=100), "max_delay_ms", ErrorCode.CONFIG_MAX_DELAY),
        (dict(max_attempts=0), "max_attempts", ErrorCode.CONFIG_MAX_ATTEMPTS),
        (dict(jitter_mode="gaussian"), "jitter_mode", ErrorCode.CONFIG_JITTER_MODE),
        (dict(down_ping_interval_ms=0), "down_ping_interval_ms",
         ErrorCode.CONFIG_DOWN_PING_INTERVAL),
        (dict(health_url="ws://x/health"), "health_url", ErrorCode.CONFIG_HEALTH_URL),
        (dict(connect_timeout_ms=0), "connect_timeout_ms", ErrorCode.CONFIG_CONNECT_TIMEOUT),
        (dict(ping_interval_ms=0), "ping_interval_ms", ErrorCode.CONFIG_PING_INTERVAL),
        (dict(ping_interval_ms=300, ping_timeout_ms=300), "ping_timeout_ms",
         ErrorCode.CONFIG_PING_TIMEOUT),
        (dict(ping_timeout_ms=0), "ping_timeout_ms", ErrorCode.CONFIG_PING_TIMEOUT),
        # a rule between two fields: the one changed from its default (C's
        # lifeline_config_check() decides; rtt_poor_ms=1000 is the default)
        (dict(rtt_good_ms=1000, rtt_poor_ms=1000), "rtt_good_ms",
         ErrorCode.CONFIG_RTT_THRESHOLDS),
        (dict(rtt_good_ms=1500, rtt_poor_ms=1200), "rtt_poor_ms",
         ErrorCode.CONFIG_RTT_THRESHOLDS),
        (dict(base_delay_ms=40000), "base_delay_ms", ErrorCode.CONFIG_MAX_DELAY),
        (dict(ping_interval_ms=5000), "ping_interval_ms", ErrorCode.CONFIG_PING_TIMEOUT),
        (dict(rtt_good_ms=0), "rtt_good_ms", ErrorCode.CONFIG_RTT_THRESHOLDS),
        (dict(headers=["X-Token secret"]), "headers", ErrorCode.CONFIG_HEADER),
        (dict(headers={"X-Token": "a\r\nInjected: 1"}), "headers", ErrorCode.CONFIG_HEADER),
        (dict(headers={"X:Bad": "1"}), "headers", ErrorCode.CONFIG_HEADER),
        (dict(http_proxy="proxy"), "http_proxy", ErrorCode.CONFIG_PROXY),
        (dict(max_message_bytes=0), "max_message_bytes", ErrorCode.CONFIG_LIMITS),
        (dict(queue_max_messages=0), "queue_max_messages", ErrorCode.CONFIG_LIMITS),
        (dict(queue_max_bytes=0), "queue_max_bytes", ErrorCode.CONFIG_LIMITS),
        (dict(ca_file="/nonexistent/ca.pem"), "ca_file", ErrorCode.CONFIG_CA_FILE),
        (dict(discord_webhook="ftp://discord/x"), "discord_webhook", ErrorCode.CONFIG_WEBHOOK),
        (dict(discord_webhook_url="nope"), "discord_webhook_url", ErrorCode.CONFIG_WEBHOOK),
        (dict(alert_labels=["no colon"]), "alert_labels", ErrorCode.CONFIG_LABEL),
        (dict(alert_labels={"": "x"}), "alert_labels", ErrorCode.CONFIG_LABEL),
        (dict(queue_policy="drop_newest"), "queue_policy", ErrorCode.CONFIG_QUEUE),
    ],
)
def test_a_config_error_names_the_option_it_concerns(kw, option, code):
    with pytest.raises(ValueError, match=rf"^{option}: ") as e:
        make(**kw)
    assert isinstance(e.value, lifeline.LifelineError)
    assert e.value.option == option
    assert e.value.code == code
    assert e.value.name == code.name
    assert e.value.message == lifeline.strerror(code)


def test_ping_timeout_message_is_the_library_text():
    with pytest.raises(lifeline.ConfigError) as e:
        make(ping_interval_ms=300, ping_timeout_ms=400)
    assert str(e.value) == (
        "ping_timeout_ms: ping_timeout_ms must be greater than zero and below "
        "ping_interval_ms (LIFELINE_ERR_CONFIG_PING_TIMEOUT)"
    )


@pytest.mark.parametrize(
    "kw,option",
    [
        (dict(base_delay_ms="100"), "base_delay_ms"),
        (dict(base_delay_ms=1.5), "base_delay_ms"),
        (dict(max_attempts=True), "max_attempts"),
        (dict(headers="X-A: 1"), "headers"),
        (dict(jitter_mode=1), "jitter_mode"),
        (dict(loop="shared"), "loop"),
        (dict(origin=b"http://x"), "origin"),
        (dict(on_state="print"), "on_state"),
        (dict(log_level=2.0), "log_level"),
    ],
)
def test_a_wrong_type_is_a_type_error_naming_the_option(kw, option):
    with pytest.raises(TypeError, match=rf"^{option}: "):
        make(**kw)


@pytest.mark.parametrize(
    "kw,option",
    [
        (dict(base_delay_ms=2**31), "base_delay_ms"),
        (dict(random_seed=2**64), "random_seed"),
        (dict(origin="a\0b"), "origin"),
        (dict(log_level="loud"), "log_level"),
        (dict(url="ws://a\0b/"), "url"),
    ],
)
def test_a_value_c_cannot_hold_is_a_value_error_naming_the_option(kw, option):
    with pytest.raises(ValueError, match=rf"^{option}: "):
        make(**kw)


def test_both_webhook_spellings_at_once_are_refused():
    with pytest.raises(TypeError, match="discord_webhook"):
        make(discord_webhook="https://a/b", discord_webhook_url="https://a/b")


def test_good_options_in_every_accepted_form():
    make(
        base_delay_ms=100,
        max_delay_ms=400,
        jitter_ms=0,
        jitter_mode=lifeline.JitterMode.FULL,
        max_attempts=3,
        random_seed=2**64 - 1,
        headers={"Authorization": "Bearer x", "X-Till": "3"},
        subprotocol="pos.v1",
        origin="https://pos.example.com",
        allow_insecure_tls=False,
        app_ping=True,
        queue_policy="drop_oldest",
        queue_max_messages=10,
        discord_webhook="https://discord.com/api/webhooks/1/token",
        alert_labels={"Store": "12", "Device": "till-3"},
        alert_username="lifeline-tests",
        log_level="debug",
    )
    make(headers=["X-A: 1", "X-B: 2"], alert_labels=["Store: 12"], queue_policy="off",
         jitter_mode="additive", log_level=lifeline.LogLevel.ERROR)
    make(queue_policy=lifeline.QueuePolicy.REJECT, log_level=0)


def test_permessage_deflate_is_refused_on_libwebsockets_4_1():
    # libwebsockets 4.1's client stalls with it (see the README): the
    # library refuses it rather than hang, and the error names the option
    # (issue 16: it named "options" while lifeline_config_check() passed it)
    import ctypes
    import ctypes.util

    lws = ctypes.CDLL(ctypes.util.find_library("websockets"))
    lws.lws_get_library_version.restype = ctypes.c_char_p
    major, minor = (int(x) for x in lws.lws_get_library_version().decode().split(".")[:2])
    if (major, minor) >= (4, 2):
        pytest.skip("libwebsockets 4.2 or later")
    with pytest.raises(lifeline.ConfigError) as e:
        make(permessage_deflate=True)
    assert e.value.name == "CONFIG_DEFLATE"
    assert e.value.option == "permessage_deflate"
    assert str(e.value).startswith("permessage_deflate: permessage_deflate needs")


def test_a_closed_loop_is_refused():
    loop = lifeline.Loop()
    loop.close()
    with pytest.raises(ValueError, match="^loop: "):
        make(loop=loop)
