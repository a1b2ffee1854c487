"""The config cache (config/cache.py): a file read before is neither parsed nor validated again,
and anything validation depends on (the text, a ${VAR}, an AUTOGPT_DEV_* override, the schema's
files) makes it parse or validate again. Every "not again" is preceded by a "yes" in the same
test, counted on the real functions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tui_manager.config import ConfigError, cache, load, loader, validate


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    seen: Counter[str] = Counter()
    real_parse, real_validate = loader.parse_text, validate.validate_models

    def parse_text(*a: Any) -> Any:
        seen["parse"] += 1
        return real_parse(*a)

    def validate_models(*a: Any) -> Any:
        seen["validate"] += 1
        return real_validate(*a)

    monkeypatch.setattr(loader, "parse_text", parse_text)
    monkeypatch.setattr(validate, "validate_models", validate_models)
    return seen


CONFIG = """
[services.api]
command = "python -m http.server ${PORT:-8000}"
"""


def test_a_second_load_neither_parses_nor_validates(write_config, calls):
    path = write_config(CONFIG)
    first = load(path)
    assert calls == {"parse": 1, "validate": 1}
    second = load(path)
    assert calls == {"parse": 1, "validate": 1}
    assert second.services == first.services and second.manager == first.manager


def test_an_edit_parses_again_and_validates_with_the_models_unless_only_plain_values_changed(
    write_config, calls
):
    path = write_config(CONFIG)
    load(path)
    path.write_text(CONFIG + 'ready = { tcp = "127.0.0.1:8000" }\n')  # a new key: the models
    assert load(path).services["api"].ready is not None
    assert calls == {"parse": 2, "validate": 2}
    path.write_text((CONFIG + 'ready = { tcp = "127.0.0.1:8000" }\n').replace("8000}", "8001}"))
    assert load(path).argv("api")[-1] == "8001"  # a command's text: no models (revalidate.py)
    assert calls == {"parse": 3, "validate": 2}
    path.write_text(CONFIG + 'ready = { tcp = "127.0.0.1:8001" }\n')  # inside a probe: models
    assert load(path).services["api"].ready.tcp == "127.0.0.1:8001"  # type: ignore[union-attr]
    assert calls == {"parse": 4, "validate": 3}


def test_an_environment_change_never_parses_again(write_config, calls, monkeypatch):
    path = write_config(CONFIG)
    load(path)
    monkeypatch.setenv("PORT", "9000")  # into a command: a plain value, no models
    assert load(path).argv("api")[-1] == "9000"
    assert calls == {"parse": 1, "validate": 1}
    monkeypatch.setenv("AUTOGPT_DEV_LOG_BACKUPS", "7")  # an override, not in the file
    assert load(path).manager.log_backups == 7
    assert calls == {"parse": 1, "validate": 2}
    assert load(path).manager.log_backups == 7
    assert calls == {"parse": 1, "validate": 2}


def test_a_schema_edit_validates_again(write_config, calls, monkeypatch):
    path = write_config(CONFIG)
    load(path)
    real = cache._schema
    monkeypatch.setattr(cache, "_schema", lambda: [*real(), 1])  # model.py touched
    load(path)
    assert calls == {"parse": 1, "validate": 2}


def test_an_invalid_config_is_never_cached(write_config, calls):
    path = write_config(CONFIG.replace('command = "', 'commnd = "'))
    for n in (1, 2):
        with pytest.raises(ConfigError, match="commnd"):
            load(path)
        assert calls == {"parse": n, "validate": n}


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"[]", b'{"path": 3}'])
def test_a_damaged_cache_file_is_a_miss_and_is_rewritten(write_config, calls, garbage: bytes):
    path = write_config(CONFIG)
    load(path)
    cache._file(path.resolve()).write_bytes(garbage)
    load(path)
    load(path)
    assert calls == {"parse": 2, "validate": 2}


def test_two_configs_never_share_an_entry(tmp_path: Path, calls):
    a, b = tmp_path / "a", tmp_path / "b"
    for d, port in ((a, 1), (b, 2)):
        d.mkdir()
        (d / "autogpt-dev.toml").write_text(CONFIG.replace("8000", str(port)))
    for _ in range(2):
        assert load(a / "autogpt-dev.toml").argv("api")[-1] == "1"
        assert load(b / "autogpt-dev.toml").argv("api")[-1] == "2"
    assert calls == {"parse": 2, "validate": 2}
