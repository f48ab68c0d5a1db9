"""The long-lived image verifier the webhook keeps between reviews. Does network I/O.

Owns what makes verification fast and bounded at admission:

* one ``registry.Client`` per registry host and identity (anonymous or the
  configured credential, or one a call brings in its ``Access``), kept for
  the verifier's life, so connections and bearer tokens are reused between
  reviews, and a token earned with one identity's credential never serves
  another;
* the images of one call verified in parallel (at most ``parallel`` at once),
  each once however many containers and policies name it;
* a cache of positive results (an image digest with at least one signature
  by a trusted key) by repository, digest, trusted key set, whether
  vulnerability attestations were read and owner, bounded in size (least recently
  used goes first) and in age (``ttl``); failures are never cached, so the
  next review asks the registry again;
* vulnerability attestations read only for images a policy's
  ``imageSignatures.vulnerabilities`` covers, and such a result cached only
  while every covering policy accepts it: a cache hit is judged again
  against the clock (the scan may have grown too old since), and one no
  longer accepted is dropped and looked up again, so a new scan is seen at
  once;
* concurrent lookups of the same digest coalesced: the second waits for the
  first and shares its result;
* a deadline per call: an image not verified in time gets evidence that
  says so (the check then denies it), and the lookup goes on in the
  background and fills the cache for the next review.

A tag is resolved to its digest on every call (one manifest request): the
cache is keyed by digest, so an image pinned by digest costs no request at
all once verified.

The owner of a result is ``""`` when it was verified without a call's own
credentials (anonymously or with the configured ones), else the ``Access``
owner (the Pod's namespace): a result verified with one namespace's pull
secrets is served to that namespace only, so a Pod elsewhere without
credentials never rides on it; it verifies (and is denied) on its own.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import datetime
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

from webhook import policy
from webhook.policy import signatures
from webhook.rules import image_references
from webhook.supplychain import attestations, cosign, registry

#: Images verified at once (each is a few round trips to a registry).
PARALLEL: Final = 8
DEFAULT_CACHE_SIZE: Final = 4096
DEFAULT_TTL: Final = 300.0
#: Sets of loaded trusted keys kept (one per distinct policy key set, in practice a few).
_KEY_SETS: Final = 64
#: Clients (connections, tokens) kept, one per host and identity; the first one kept goes first.
_CLIENTS: Final = 256

#: Outcome labels: served from the cache, verified now with a trusted signature, verified
#: now without one (unsigned, other key, bad payload), or not verified (registry failure,
#: deadline, unparseable reference).
CACHED: Final = "cached"
SIGNED: Final = "signed"
UNSIGNED: Final = "unsigned"
ERROR: Final = "error"
RESULTS: Final = (CACHED, SIGNED, UNSIGNED, ERROR)

#: Repository, digest, trusted key ids, whether vulnerability attestations were read, owner.
_CacheKey = tuple[str, str, frozenset[str], bool, str]
#: The owner of results verified without a call's own credentials.
SHARED: Final = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Access:
    """A call's own registry credentials (by host) and whose they are.

    ``owner`` names who may use them (the Pod's namespace): what is verified
    with them is cached for that owner only.
    """

    owner: str
    credentials: Mapping[str, registry.Credential]

    def credential(self, host: str) -> registry.Credential | None:
        return self.credentials.get(host)


def _owner(access: Access | None, host: str) -> tuple[str, registry.Credential | None]:
    """Whose result a verification of an image on ``host`` is, and the credential it uses."""
    credential = None if access is None else access.credential(host)
    return (SHARED, None) if credential is None or access is None else (access.owner, credential)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How one image's verification went (for metrics): a ``RESULTS`` label and seconds."""

    result: str
    seconds: float


@dataclasses.dataclass(frozen=True, slots=True)
class Verification:
    """The evidence for each image verified, and how each verification went."""

    evidence: policy.EvidenceMap
    outcomes: tuple[Outcome, ...]


def _positive(evidence: signatures.Evidence) -> bool:
    return not evidence.failure and any(s.key is not None for s in evidence.signatures)


def _result(evidence: signatures.Evidence) -> str:
    if evidence.failure:
        return ERROR
    return SIGNED if _positive(evidence) else UNSIGNED


def _as(evidence: signatures.Evidence, image: str) -> signatures.Evidence:
    return evidence if evidence.image == image else dataclasses.replace(evidence, image=image)


def trusted_keys(policies: Sequence[policy.CompiledPolicy]) -> tuple[signatures.TrustedKey, ...]:
    """Every key some policy's ``imageSignatures`` trusts, each once."""
    found: dict[str, signatures.TrustedKey] = {}
    for compiled in policies:
        if compiled.image_signatures is not None:
            found.update((key.id, key) for key in compiled.image_signatures.keys)
    return tuple(found[k] for k in sorted(found))


def covered(image: str, policies: Sequence[policy.CompiledPolicy]) -> bool:
    """Whether some policy's ``imageSignatures`` applies to ``image``."""
    return any(
        p.image_signatures is not None and p.image_signatures.covers(image) for p in policies
    )


def _scan_rules(image: str, policies: Sequence[policy.CompiledPolicy]) -> list[signatures.Settings]:
    """The ``imageSignatures`` covering ``image`` that require vulnerability attestations."""
    return [
        p.image_signatures
        for p in policies
        if p.image_signatures is not None
        and p.image_signatures.vulnerabilities is not None
        and p.image_signatures.covers(image)
    ]


def _accepted(
    evidence: signatures.Evidence,
    scans: Sequence[signatures.Settings],
    now: datetime.datetime,
) -> bool:
    """Whether ``evidence`` is positive and meets every one of ``scans`` at ``now``."""
    return _positive(evidence) and all(
        signatures.scan_failure(scan, evidence, now=now) is None for scan in scans
    )


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class _Cache:
    """Positive evidence by key, bounded by count and age; thread-safe."""

    def __init__(self, *, size: int, ttl: float, clock: Callable[[], float]) -> None:
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[_CacheKey, tuple[float, signatures.Evidence]] = (
            collections.OrderedDict()
        )

    def get(self, key: _CacheKey) -> signatures.Evidence | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def discard(self, key: _CacheKey) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def put(self, key: _CacheKey, evidence: signatures.Evidence) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, evidence)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class Verifier:
    """Verifies images for many calls, reusing clients, a cache and worker threads."""

    def __init__(
        self,
        settings: registry.Settings,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        ttl: float = DEFAULT_TTL,
        parallel: int = PARALLEL,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        """``clock`` measures the cache's ``ttl``; ``wall`` is the time scans are judged at."""
        self._settings = settings
        self._wall = wall
        self._cache = _Cache(size=cache_size, ttl=ttl, clock=clock)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=parallel, thread_name_prefix="verify"
        )
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, registry.Credential | None], registry.Client] = {}
        self._key_sets: dict[tuple[signatures.TrustedKey, ...], dict[str, cosign.PublicKey]] = {}
        self._inflight: dict[_CacheKey, concurrent.futures.Future[signatures.Evidence]] = {}

    @property
    def cached(self) -> int:
        """Entries in the positive-result cache now."""
        return len(self._cache)

    def close(self) -> None:
        """Stop the worker threads and close idle registry connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.close()

    def verify(
        self,
        wanted: Iterable[str],
        policies: Sequence[policy.CompiledPolicy],
        *,
        timeout: float | None = None,
        access: Access | None = None,
    ) -> Verification:
        """Evidence for each image of ``wanted`` that some policy's ``imageSignatures`` covers.

        ``timeout`` bounds the whole call, in seconds; ``access`` brings the
        call's own credentials (a registry without one there is reached as
        usual: with the configured credential, else anonymously). Raises
        ``cosign.UnusableKeyError`` when a trusted key cannot be loaded.
        """
        todo = sorted({image for image in wanted if covered(image, policies)})
        if not todo:
            return Verification(evidence={}, outcomes=())
        keys = self._keys(trusted_keys(policies))
        key_ids = frozenset(keys)
        evidence: dict[str, signatures.Evidence] = {}
        outcomes: list[Outcome] = []
        pending: dict[concurrent.futures.Future[tuple[signatures.Evidence, Outcome]], str] = {}
        for image in todo:
            started = time.perf_counter()
            scans = _scan_rules(image, policies)
            hit = self._pinned_hit(image, key_ids, scans, access)
            if hit is not None:
                evidence[image] = hit
                outcomes.append(Outcome(CACHED, time.perf_counter() - started))
            else:
                lookup = self._pool.submit(self._lookup, image, keys, key_ids, scans, access)
                pending[lookup] = image
        if pending:
            done, late = concurrent.futures.wait(pending, timeout=timeout)
            for future in done:
                found, outcome = future.result()
                evidence[pending[future]] = found
                outcomes.append(outcome)
            for future in late:
                image = pending[future]
                evidence[image] = signatures.Evidence(
                    image=image,
                    digest=None,
                    failure=f"the registry did not complete the verification within {timeout:g}s",
                )
                outcomes.append(Outcome(ERROR, timeout or 0.0))
        return Verification(evidence=evidence, outcomes=tuple(outcomes))

    # -- one image ---------------------------------------------------------

    def _pinned_hit(
        self,
        image: str,
        key_ids: frozenset[str],
        scans: Sequence[signatures.Settings],
        access: Access | None,
    ) -> signatures.Evidence | None:
        """The cached evidence of an image pinned by digest, without any request."""
        try:
            reference = image_references.parse(image)
        except image_references.ImageError:
            return None
        if reference.digest is None:
            return None
        owner, _ = _owner(access, reference.registry)
        key = (signatures.repository(reference), reference.digest, key_ids, bool(scans), owner)
        hit = self._hit(key, scans)
        return None if hit is None else _as(hit, image)

    def _hit(
        self, key: _CacheKey, scans: Sequence[signatures.Settings]
    ) -> signatures.Evidence | None:
        """A cached result still accepted now (a scan may have grown too old since)."""
        hit = self._cache.get(key)
        if hit is None or not scans or _accepted(hit, scans, self._wall()):
            return hit
        self._cache.discard(key)
        return None

    def _lookup(
        self,
        image: str,
        keys: dict[str, cosign.PublicKey],
        key_ids: frozenset[str],
        scans: Sequence[signatures.Settings],
        access: Access | None,
    ) -> tuple[signatures.Evidence, Outcome]:
        started = time.perf_counter()
        found, result = self._evidence(image, keys, key_ids, scans, access)
        return found, Outcome(result, time.perf_counter() - started)

    def _evidence(
        self,
        image: str,
        keys: dict[str, cosign.PublicKey],
        key_ids: frozenset[str],
        scans: Sequence[signatures.Settings],
        access: Access | None,
    ) -> tuple[signatures.Evidence, str]:
        try:
            reference = image_references.parse(image)
        except image_references.ImageError as err:
            return signatures.Evidence(image=image, digest=None, failure=err.reason), ERROR
        owner, credential = _owner(access, reference.registry)
        client = self._client(reference.registry, credential)
        try:
            digest = client.resolve(reference)
        except registry.RegistryError as err:
            return signatures.Evidence(image=image, digest=None, failure=str(err)), ERROR
        key = (signatures.repository(reference), digest, key_ids, bool(scans), owner)
        hit = self._hit(key, scans)
        if hit is not None:
            return _as(hit, image), CACHED
        with self._lock:
            shared = self._inflight.get(key)
            if shared is None:
                mine: concurrent.futures.Future[signatures.Evidence] = concurrent.futures.Future()
                self._inflight[key] = mine
        if shared is not None:
            found = _as(shared.result(), image)
            return found, _result(found)
        try:
            found = cosign.verify(client, image, keys=keys, digest=digest)
            if scans and _positive(found):
                found = self._attested(
                    client, found, repository=reference.repository, digest=digest, keys=keys
                )
            if _accepted(found, scans, self._wall()):
                self._cache.put(key, found)
            mine.set_result(found)
        except BaseException as err:
            mine.set_exception(err)
            raise
        finally:
            with self._lock:
                del self._inflight[key]
        return found, _result(found)

    @staticmethod
    def _attested(
        client: registry.Client,
        found: signatures.Evidence,
        *,
        repository: str,
        digest: str,
        keys: dict[str, cosign.PublicKey],
    ) -> signatures.Evidence:
        """``found`` with the vulnerability attestations of ``digest``, or why they are unread."""
        try:
            read = attestations.find(client, repository, digest, keys=keys)
        except registry.RegistryError as err:
            return dataclasses.replace(found, failure=f"reading its attestations: {err}")
        return dataclasses.replace(found, attestations=read)

    def _client(self, host: str, credential: registry.Credential | None) -> registry.Client:
        with self._lock:
            client = self._clients.get((host, credential))
            if client is not None:
                return client
            if len(self._clients) >= _CLIENTS:
                oldest = next(iter(self._clients))
                self._clients.pop(oldest).close()
            client = self._clients[host, credential] = registry.Client(
                host, self._settings, credential=credential
            )
            return client

    def _keys(self, trusted: tuple[signatures.TrustedKey, ...]) -> dict[str, cosign.PublicKey]:
        with self._lock:
            loaded = self._key_sets.get(trusted)
        if loaded is None:
            loaded = cosign.load_keys(trusted)
            with self._lock:
                if len(self._key_sets) >= _KEY_SETS:
                    self._key_sets.clear()
                self._key_sets[trusted] = loaded
        return loaded
