"""The bottom layer: pure helpers every other layer may use (stdlib only, no project imports).

graph (the dependency DAG), fmt (how durations and exits are written), paths (the state dir's
layout), tail (reading the end of a log), early_signals, keys. The process table and
every other system-specific call live one layer lower, in tui_manager.platform.
"""
