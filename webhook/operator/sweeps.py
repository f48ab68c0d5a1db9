"""The operator's periodic passes over every policy object. Network I/O.

Some status changes with no event on the policy: time passing expires
exclusions (``expiry.sweep``), and a Secret named by ``keySecrets`` changes
(``keysecrets.sweep``). ``run`` calls each sweep every ``interval`` seconds
(``--check-interval``) on a worker thread until ``stop`` is set; a sweep
that fails is logged and tried again at the next pass. ``policies`` lists
both policy kinds for them and ``status_path`` names the status subresource
they patch.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from webhook import kube
from webhook.policy import crds

_LOG: Final = logging.getLogger("bulkhead.operator.sweeps")

#: A sweep: brings every policy's status up to ``now``; returns how many it patched.
Sweep = Callable[[datetime.datetime], int]


def status_path(item: Mapping[str, Any], plural: str) -> str:
    """The status subresource of policy ``item`` (of the kind ``plural`` names)."""
    metadata = item.get("metadata") or {}
    base = f"/apis/{crds.GROUP}/{crds.VERSION}"
    namespace = metadata.get("namespace")
    where = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{where}/{plural}/{metadata.get('name')}/status"


def policies(api: kube.Api) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy object of both kinds, listed now, each with its plural."""
    api_version = f"{crds.GROUP}/{crds.VERSION}"
    for kind, plural in crds.PLURALS.items():
        listed = api.request("GET", f"/apis/{api_version}/{plural}")
        for listed_item in listed.get("items") or ():
            # A List's items omit apiVersion and kind.
            yield plural, {**listed_item, "apiVersion": api_version, "kind": kind}


async def run(sweeps: Mapping[str, Sweep], *, interval: float, stop: asyncio.Event) -> None:
    """Run every sweep (by name, for the logs) each ``interval`` seconds until ``stop`` is set."""
    _LOG.info("sweeping %s every %.1fs", ", ".join(sweeps), interval)
    while not stop.is_set():
        for name, sweep in sweeps.items():
            try:
                patched = await asyncio.to_thread(sweep, datetime.datetime.now(datetime.UTC))
                _LOG.log(
                    logging.INFO if patched else logging.DEBUG,
                    "%s: %d policy statuses updated",
                    name,
                    patched,
                )
            except kube.ApiError as err:
                _LOG.warning("%s sweep failed: %s", name, err)
            except Exception:  # a bug must not stop the sweeps silently
                _LOG.exception("%s sweep failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
