"""`autogpt-dev completion bash|zsh|fish`, generated from the argument parser: every command,
its options and choices; service names come from `autogpt-dev check --names`, so they follow
the config in the current directory."""

from __future__ import annotations

from dataclasses import dataclass

from . import parser as cli_parser

NAMES = "$(autogpt-dev check --names 2>/dev/null)"


@dataclass(frozen=True)
class Command:
    name: str
    words: tuple[str, ...]  # options and fixed choices
    services: bool  # takes service names


def commands() -> list[Command]:
    out = []
    for name, sub in cli_parser.subcommands(cli_parser.build()).items():
        words: list[str] = []
        services = False
        for action in sub._actions:
            words += [o for o in action.option_strings if o.startswith("--") or len(o) == 2]
            if not action.option_strings:
                services |= action.dest in cli_parser.SERVICE_ARGS
                words += [str(c) for c in action.choices or ()]
        out.append(Command(name, tuple(dict.fromkeys(words)), services))
    return out


def bash(cmds: list[Command]) -> str:
    cases = "\n".join(
        f'        {c.name}) words="{" ".join(c.words)}{" " + NAMES if c.services else ""}";;'
        for c in cmds
    )
    names = " ".join(c.name for c in cmds)
    return f"""_autogpt_dev() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} cmd=${{COMP_WORDS[1]}} words=""
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "{names} --help --version" -- "$cur")); return
    fi
    case "$cmd" in
{cases}
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -F _autogpt_dev autogpt-dev"""


def zsh(cmds: list[Command]) -> str:
    cases = "\n".join(
        f"            {c.name}) compadd -- {' '.join(c.words)}"
        + (f' ${{(f)"{NAMES}"}}' if c.services else "")
        + ";;"
        for c in cmds
    )
    return f"""#compdef autogpt-dev
_autogpt_dev() {{
    if (( CURRENT == 2 )); then
        compadd -- {" ".join(c.name for c in cmds)}
    else
        case $words[2] in
{cases}
        esac
    fi
}}
compdef _autogpt_dev autogpt-dev"""


def fish(cmds: list[Command]) -> str:
    lines = [
        "complete -c autogpt-dev -f",
        f'complete -c autogpt-dev -n "__fish_use_subcommand" -a "{" ".join(c.name for c in cmds)}"',
    ]
    for c in cmds:
        words = " ".join(c.words) + (f" ({NAMES[2:-1]})" if c.services else "")
        lines.append(
            f'complete -c autogpt-dev -n "__fish_seen_subcommand_from {c.name}" -a "{words}"'
        )
    return "\n".join(lines)


def script(shell: str) -> str:
    cmds = commands()
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](cmds)


__all__ = ["Command", "commands", "script"]
