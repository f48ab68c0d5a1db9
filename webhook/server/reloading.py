"""What a process judges with, loaded and kept current in a ``loaded.State``. File and network I/O.

``load(settings)`` gives a process (the front, and each worker for the
reviews it judges) its ``State`` and an unstarted ``Watcher``: policies
from files (polled), or in ``watch_cluster`` mode from the cluster (list and
watch on the cache's own threads), and the certificate's status (polled).

``PolicySource`` compiles every ``ClusterContainerPolicy``/``ContainerPolicy``
document under the ``--policy-file`` paths (files or directories) plus one
Deny policy per ``--profile``; ``CertificateSource`` checks that the
certificate and key still form a usable pair and records the expiry. Both
compare a digest of their files' bytes on every poll and reload only when
it changes. A reload that fails keeps the last good value in force and
records why (``/readyz`` and the log show it); the next change retries. A
reload that finds no policy at all also makes ``/readyz`` answer 503 until
policies are back: zero policies would admit everything.

``Watcher`` runs the polls on one daemon thread every ``interval`` seconds
until ``stop``. The same loading code serves the worker's first load, so a
file that is invalid at start-up is reported exactly like one broken later.
"""

from __future__ import annotations

import datetime
import hashlib
import pathlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from webhook import documents, jsonlogs, policyfiles
from webhook.server import loaded, settings, tls

if TYPE_CHECKING:
    from webhook.policy import cache


def _policy_files(paths: Sequence[str]) -> Iterator[pathlib.Path | str]:
    for raw in paths:
        path = pathlib.Path(raw)
        if path.is_dir():
            yield raw  # the listing itself: a file added or removed is a change
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in documents.SUFFIXES
            )
        else:
            yield path


def policy_fingerprint(paths: Sequence[str]) -> str:
    """A digest of every policy file's name and bytes."""
    digest = hashlib.sha256()
    for item in _policy_files(paths):
        digest.update(str(item).encode() + b"\x00")
        if isinstance(item, pathlib.Path):
            try:
                digest.update(item.read_bytes())
            except OSError:
                digest.update(b"\x00missing")
        digest.update(b"\x00")
    return digest.hexdigest()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class PolicySource:
    """The ``--policy-file`` paths and ``--profile`` texts, compiled into ``state``."""

    def __init__(self, *, config: settings.Settings, into: loaded.State) -> None:
        self._settings = config
        self._state = into
        self._seen: str | None = None
        self._log = jsonlogs.logger("policies")

    def poll(self) -> None:
        current = policy_fingerprint(self._settings.policy_files)
        if current == self._seen:
            return
        self._seen = current
        self.reload()

    def reload(self) -> None:
        try:
            compiled = policyfiles.load(
                self._settings.policy_files,
                self._settings.profiles,
                latest_minor=self._settings.pss_latest_minor,
            )
        except policyfiles.PolicyFileError as err:
            kept = self._state.policies
            empty = isinstance(err, policyfiles.NoPoliciesError)
            self._state.policies_failed(str(err), blocking=empty)
            if empty and kept.loaded:
                message = "policy files hold no policy; the last good set stays in force; not ready"
            elif kept.loaded:
                message = "policy reload failed; the last good set stays in force"
            else:
                message = "policies cannot be loaded; not ready"
            self._log.warning(
                message, extra=jsonlogs.fields(error=str(err), inForce=len(kept.policies))
            )
            return
        self._state.policies_loaded(compiled, at=_now())
        self._log.info(
            "policies loaded",
            extra=jsonlogs.fields(count=len(compiled), policies=[p.key for p in compiled]),
        )


class CertificateSource:
    """The serving certificate's usability and expiry, recorded in ``state``."""

    def __init__(self, *, config: settings.Settings, into: loaded.State) -> None:
        self._settings = config
        self._state = into
        self._seen: str | None = None
        self._log = jsonlogs.logger("tls")

    def _files(self) -> tuple[str, str, str | None]:
        s = self._settings
        return s.tls_cert_file, s.tls_private_key_file, s.client_ca_file

    def poll(self) -> None:
        current = tls.fingerprint(self._files())
        if current == self._seen:
            return
        self._seen = current
        cert, key, client_ca = self._files()
        try:
            tls.server_context(cert_file=cert, key_file=key, client_ca_file=client_ca)
            facts = tls.describe(cert)
        except tls.TlsError as err:
            self._state.tls_failed(str(err))
            self._log.warning("certificate check failed", extra=jsonlogs.fields(error=str(err)))
            return
        self._state.tls_loaded(not_after=facts.not_after, subject=facts.subject, at=_now())
        self._log.info(
            "certificate loaded",
            extra=jsonlogs.fields(subject=facts.subject, notAfter=facts.not_after.isoformat()),
        )


class Watcher:
    """Calls every poll function every ``interval`` seconds on a daemon thread."""

    def __init__(self, *, interval: float, polls: Sequence[Callable[[], None]]) -> None:
        self._interval = interval
        self._polls = tuple(polls)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bulkhead-watcher", daemon=True)
        self._log = jsonlogs.logger("watcher")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._interval + 5)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            for poll in self._polls:
                try:
                    poll()
                except Exception as err:
                    self._log.error(
                        "poll failed", extra=jsonlogs.fields(exception=type(err).__name__)
                    )


def watch_cluster(config: settings.Settings, into: loaded.State) -> cache.PolicyCache:
    """Start feeding ``into`` from the cluster's policy objects (``watch_cluster`` mode).

    The cache and ``webhook.kube`` are imported here, not at the top: they bring
    in the Kubernetes client (about 15 MB of memory), which only this mode needs.
    """
    from webhook import kube  # noqa: PLC0415 - see above
    from webhook.policy import cache  # noqa: PLC0415 - see above

    api = kube.Api(kube.client_configuration(kubeconfig=config.kubeconfig))
    feed = cache.PolicyCache(api=api, sink=into, latest_minor=config.pss_latest_minor)
    into.look_up_namespaces_with(feed.look_up_namespace)
    feed.start()
    return feed


def load(config: settings.Settings) -> tuple[loaded.State, Watcher]:
    """A ``State`` with policies and certificate loaded, and its (unstarted) watcher.

    In ``watch_cluster`` mode the policy cache is started here (its threads
    load the policies) and the watcher polls only the certificate.
    """
    held = loaded.State()
    certificate = CertificateSource(config=config, into=held)
    polls: list[Callable[[], None]] = [certificate.poll]
    if config.watch_cluster:
        watch_cluster(config, held)
    else:
        policies = PolicySource(config=config, into=held)
        policies.poll()
        polls.insert(0, policies.poll)
    certificate.poll()
    return held, Watcher(interval=config.reload_interval, polls=polls)
