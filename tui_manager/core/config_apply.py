"""Dev mode's config reload, applied to a running Supervisor: the difference only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import lifecycle

if TYPE_CHECKING:
    from ..config import Config
    from .supervisor import Supervisor


async def apply_config(sup: Supervisor, new: Config) -> tuple[list[str], list[str], list[str]]:
    """Dev mode's config reload: (added, changed, removed). Removed services are stopped and
    added ones started; changed ones get the new spec and are left for the caller to
    restart (it restarts each affected service once). Unchanged ones are not touched."""
    wanted = new.enabled()
    removed = [n for n in sup.services if n not in wanted]
    for name in removed:
        await lifecycle.stop(sup, sup.services[name], "config")
        sup.services.pop(name).log.close()
        sup.sockets.release(name)
    sup.config = new
    changed = [n for n in sup.services if sup.services[n].spec != wanted[n]]
    added = [n for n in wanted if n not in sup.services]
    for name in changed:
        sup.services[name].spec = wanted[name]
        sup.configure(sup.services[name])
    for name in added:
        sup.services[name] = sup.make_service(name)
    sup.order = [n for n in new.services if n in sup.services]
    sup.set_graph()
    for name in added:
        sup.launch(sup.services[name])
    if removed or changed or added:
        sup.system(f"config applied: added {added}, changed {changed}, removed {removed}")
    return added, changed, removed
