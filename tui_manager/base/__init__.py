"""The bottom layer: pure helpers every other layer may use (stdlib only, no project imports).

graph (the dependency DAG), fmt (how durations and exits are written), paths (the state dir's
layout), procfs (is a pid alive, process trees from /proc), tail (reading the end of a log).
"""
