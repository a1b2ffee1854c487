"""Where the command goes: `autogpt-dev -c FILE status` as well as `status -c FILE`, and no
command at all is `up` (its services and options as given)."""

import pytest

from tui_manager.cli import command_first


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        ([], ["up"]),
        (["status"], ["status"]),
        (["-c", "x.toml", "status", "--json"], ["status", "-c", "x.toml", "--json"]),
        (["--config", "x.toml", "up", "--headless"], ["up", "--config", "x.toml", "--headless"]),
        (["--config=x.toml", "logs", "api"], ["logs", "--config=x.toml", "api"]),
        (["--env-file", "e", "-c", "x", "down"], ["down", "--env-file", "e", "-c", "x"]),
        (["--headless"], ["up", "--headless"]),
        (["api", "worker"], ["up", "api", "worker"]),
        (["-c", "x.toml"], ["up", "-c", "x.toml"]),
        (["-c", "status"], ["up", "-c", "status"]),  # a config file named "status"
        (["--version"], ["--version"]),
        (["-h"], ["-h"]),
    ],
)
def test_the_command_comes_first(argv: list[str], want: list[str]) -> None:
    assert command_first(argv) == want
