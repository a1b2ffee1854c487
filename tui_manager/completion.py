"""`autogpt-dev completion bash|zsh|fish`: commands, options, and the config's service names
(asked of `autogpt-dev check --names`, so they follow the config in the current directory)."""

from __future__ import annotations

COMMANDS = "up status start stop restart logs down check export schema init completion"

BASH = f"""_autogpt_dev() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} cmd=${{COMP_WORDS[1]}}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "{COMMANDS} --help --version" -- "$cur")); return
    fi
    case "$cmd" in
        up|start|stop|restart|logs)
            COMPREPLY=($(compgen -W "$(autogpt-dev check --names 2>/dev/null) --help" -- "$cur"));;
        export) COMPREPLY=($(compgen -W "systemd supervisord compose kubernetes -o" -- "$cur"));;
        completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"));;
    esac
}}
complete -F _autogpt_dev autogpt-dev"""

ZSH = f"""#compdef autogpt-dev
_autogpt_dev() {{
    if (( CURRENT == 2 )); then
        compadd -- {COMMANDS}
    else
        case $words[2] in
            up|start|stop|restart|logs) compadd -- ${{(f)"$(autogpt-dev check --names 2>/dev/null)"}};;
            export) compadd -- systemd supervisord compose kubernetes;;
            completion) compadd -- bash zsh fish;;
        esac
    fi
}}
compdef _autogpt_dev autogpt-dev"""

FISH = f"""complete -c autogpt-dev -f
complete -c autogpt-dev -n "__fish_use_subcommand" -a "{COMMANDS}"
complete -c autogpt-dev -n "__fish_seen_subcommand_from up start stop restart logs" -a "(autogpt-dev check --names 2>/dev/null)"
complete -c autogpt-dev -n "__fish_seen_subcommand_from export" -a "systemd supervisord compose kubernetes"
complete -c autogpt-dev -n "__fish_seen_subcommand_from completion" -a "bash zsh fish\""""


def script(shell: str) -> str:
    return {"bash": BASH, "zsh": ZSH, "fish": FISH}[shell]
