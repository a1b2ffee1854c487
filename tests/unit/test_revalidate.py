"""The validation fast path after an edit of plain values gives exactly what the models give,
and never accepts what they would refuse (hypothesis against validate_models)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_manager.config.errors import ConfigError
from tui_manager.config.revalidate import PLAIN, revalidated
from tui_manager.config.validate import validate_models

BASE: dict[str, Any] = {
    "manager": {"name": "t"},
    "services": {
        "db": {"command": "postgres -D data", "ready": {"tcp": "127.0.0.1:5432"}, "env": {}},
        "api": {
            "command": ["python", "-m", "api"],
            "depends_on": ["db"],
            "env": {"A": "1"},
            "cwd": "api",
            "shell": False,
            "watch": ["api"],
            "warm": True,
        },
        "fg": {"command": "python fg.py", "foreground": True, "enabled": True, "tty": False},
    },
}

text = st.text(max_size=12)
values = st.one_of(
    text,
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=3),
    st.dictionaries(text, st.integers(), min_size=1, max_size=2),
    st.none(),
)
edits = st.lists(
    st.tuples(st.sampled_from(list(BASE["services"])), st.sampled_from(sorted(PLAIN)), values),
    min_size=1,
    max_size=4,
)


def models(data: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return validate_models("t.toml", data, dict(data.get("manager", {})), {})
    except ConfigError:
        return None


@settings(max_examples=300, deadline=None)
@given(edits)
def test_a_plain_edit_gives_what_the_models_give(changes):
    old_value = models(BASE)
    assert old_value is not None
    new = copy.deepcopy(BASE)
    for service, key, value in changes:
        if key in new["services"][service]:  # an edit of an existing key (else: not ours)
            new["services"][service][key] = value
    fast = revalidated(BASE, old_value, new)
    if fast is not None:  # taken: exactly the models' answer, and only where they accept it
        assert fast == models(new)


def test_what_the_fast_path_leaves_to_the_models():
    value = models(BASE)
    assert value is not None
    for change in (
        lambda d: d["services"]["db"].update(command=""),  # empty: refused by the models
        lambda d: d["services"]["db"]["ready"].update(tcp="127.0.0.1:1"),  # a probe
        lambda d: d["services"]["db"].update(stop_timeout=3),  # a new key
        lambda d: d["manager"].update(name="u"),  # the manager table
        lambda d: d["services"]["api"].update(env={"A": 1}),  # coerced or refused: models
    ):
        new = copy.deepcopy(BASE)
        change(new)
        assert revalidated(BASE, value, new) is None
    new = copy.deepcopy(BASE)
    new["services"]["api"]["env"] = {"A": "2", "B": "x"}
    new["services"]["db"]["command"] = "postgres -D other"
    assert revalidated(BASE, value, new) == models(new)
