"""Broker URLs into settings, precedence, and passwords kept out of messages (no broker needed)."""

from __future__ import annotations

import argparse

import pytest

from vts.mqtt.settings import MqttSettings
from vts.mqtt.topics import Topics, topic_level
from vts.mqtt.urls import (
    ENV_VAR,
    MqttUrlError,
    add_mqtt_argument,
    describe,
    mask_url,
    resolve_settings,
    settings_from_url,
)


def test_plain_url_with_credentials() -> None:
    s = settings_from_url("mqtt://alice:p%40ss%3Aword@broker.callao.example:1884")
    assert (s.host, s.port, s.tls, s.username) == ("broker.callao.example", 1884, False, "alice")
    assert s.password is not None and s.password.get_secret_value() == "p@ss:word"
    assert "p@ss" not in repr(s) and "p@ss" not in describe(s)
    assert describe(s) == "mqtt://alice:***@broker.callao.example:1884"


def test_tls_url_defaults_and_parameters() -> None:
    s = settings_from_url(
        "mqtts://broker?ca=/etc/ca.pem&cert=/c.pem&key=/k.pem&client_id=vts-2&protocol=3.1.1"
    )
    assert (s.host, s.port, s.tls) == ("broker", 8883, True)
    assert (s.ca_file, s.cert_file, s.key_file, s.client_id, s.protocol) == (
        "/etc/ca.pem", "/c.pem", "/k.pem", "vts-2", "3.1.1")  # fmt: skip
    assert settings_from_url("mqtt://broker").port == 1883
    assert settings_from_url("mqtt://broker/site/a/v1").prefix == "site/a/v1"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://broker:1883", "scheme"),
        ("mqtt://:1883", "no host"),
        ("mqtt://u:secret@broker:99999", "Port"),
        ("mqtt://u:secret@broker?bogus=1", "unknown parameter"),
        ("mqtt://u:secret@broker?protocol=4", "protocol"),
    ],
)
def test_bad_urls_say_what_is_wrong_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(MqttUrlError) as err:
        settings_from_url(url)
    assert problem in str(err.value)
    assert "secret" not in str(err.value)


def test_mask_url() -> None:
    assert mask_url("mqtts://bob:hunter2@h:8883/x") == "mqtts://bob:***@h:8883/x"
    assert mask_url("mqtt://h:1883") == "mqtt://h:1883"


def test_precedence_command_line_then_environment_then_config() -> None:
    config = MqttSettings(host="from-config", port=1999, prefix="cfg/prefix", username="cfg", password="pw")
    env = {ENV_VAR: "mqtt://from-env:1883"}
    assert resolve_settings(config, "mqtt://from-cli:1", env).host == "from-cli"
    from_env = resolve_settings(config, None, env)
    assert from_env.host == "from-env" and from_env.prefix == "cfg/prefix"
    assert from_env.username == "cfg"  # a URL without credentials keeps the config's
    assert resolve_settings(config, None, {}).host == "from-config"
    nothing = resolve_settings(MqttSettings(), None, {})
    assert not nothing.enabled


def test_mqtt_argument() -> None:
    parser = argparse.ArgumentParser()
    add_mqtt_argument(parser)
    assert parser.parse_args(["--mqtt", "mqtt://h:1"]).mqtt == "mqtt://h:1"
    assert parser.parse_args([]).mqtt is None


def test_topic_levels_never_contain_separators_or_wildcards() -> None:
    assert topic_level("a/b+c#") == "a_b_c_"
    assert topic_level("") == "_"
    t = Topics("/vts/callao/v1/")
    assert t.status == "vts/callao/v1/status" and t.vessel(760000001) == "vts/callao/v1/vessel/760000001"
