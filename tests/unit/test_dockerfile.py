"""What a Dockerfile tells init: the stage it builds (with what it inherits from a stage it is
FROM), its command, and which folder of the build context its WORKDIR holds."""

from __future__ import annotations

from pathlib import Path

from tui_manager.config import dockerfile


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


def test_a_stage_built_from_another_inherits_its_workdir_command_and_copies(tmp_path):
    (tmp_path / "platform" / "backend").mkdir(parents=True)
    path = write(
        tmp_path,
        "FROM --platform=linux/amd64 python:3.11-slim AS deps\n"
        "WORKDIR /app\n"
        "COPY platform/backend/pyproject.toml /app/platform/backend/\n"
        "WORKDIR platform/backend\n"
        'CMD ["poetry", "run", "rest"]\n'
        "FROM deps AS server\n"
        "COPY --from=deps /app /app\n"
        "COPY platform/backend /app/platform/backend\n"
        "FROM python:3.11-slim AS other\n",
    )
    image = dockerfile.read(path, target="server")
    assert image is not None
    assert image.workdir == "/app/platform/backend" and image.cmd == ["poetry", "run", "rest"]
    assert image.host_dir(image.workdir, tmp_path) == tmp_path / "platform" / "backend"
    last = dockerfile.read(path)
    assert last is not None and last.workdir is None and last.copies == []


def test_copy_dot_into_the_workdir_and_the_longest_destination_wins(tmp_path):
    (tmp_path / "src" / "api").mkdir(parents=True)
    path = write(
        tmp_path,
        "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nCOPY src/api /srv/service\n"
        'COPY ["src", "/opt/code"]\n',
    )
    image = dockerfile.read(path)
    assert image is not None
    assert image.host_dir("/srv", tmp_path) == tmp_path
    assert image.host_dir("/srv/src/api", tmp_path) == tmp_path / "src" / "api"
    assert image.host_dir("/srv/service", tmp_path) == tmp_path / "src" / "api"
    assert image.host_dir("/opt/code/api", tmp_path) == tmp_path / "src" / "api"
    assert image.host_dir("/nowhere", tmp_path) is None
