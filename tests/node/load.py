"""A steady stream of admission reviews through the apiserver, counted. Network I/O.

Run inside the test node's network namespace (``python -m tests.node.load``):
worker threads POST server-side dry-run Pod creates (``dryRun=All``: judged
by the webhook, never stored) to the apiserver at a fixed total rate,
alternating a compliant Pod (must be admitted: 201) and a privileged one
(must be refused by Bulkhead: 403 naming its webhook). Anything else (a
timeout, "failed calling webhook", a 5xx, a verdict from nowhere) is a failed
review. On SIGTERM or SIGINT it writes a JSON summary to ``--out`` and exits.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import pathlib
import signal
import ssl
import threading
import time
import types
import urllib.parse
from typing import Any, Final

WEBHOOK_NAME: Final = "validate.bulkhead.dev"
_KEEP_FAILURES: Final = 20


def pod(name: str, *, image: str, privileged: bool) -> dict[str, Any]:
    """A Pod that meets ``restricted``, or a privileged one."""
    container: dict[str, Any] = {
        "name": "c",
        "image": image,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },
    }
    if privileged:
        container["securityContext"] = {"privileged": True}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
        },
    }


@dataclasses.dataclass
class Tally:
    """What the workers saw; guarded by ``lock``."""

    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    admitted: int = 0
    refused: int = 0
    failed: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failed += 1
            if len(self.failures) < _KEEP_FAILURES:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {what}")


def _denied_by_bulkhead(body: str) -> bool:
    try:
        message = str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return False
    return f'admission webhook "{WEBHOOK_NAME}" denied the request' in message


def _connection(
    server: urllib.parse.SplitResult, context: ssl.SSLContext
) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection(
        server.hostname or "", server.port or 443, context=context, timeout=15
    )


def _worker(
    *,
    index: int,
    interval: float,
    server: urllib.parse.SplitResult,
    context: ssl.SSLContext,
    namespace: str,
    image: str,
    tally: Tally,
    stop: threading.Event,
) -> None:
    connection = _connection(server, context)
    path = f"/api/v1/namespaces/{namespace}/pods?dryRun=All"
    sent = 0
    next_at = time.monotonic() + index * interval / 4
    while not stop.is_set():
        delay = next_at - time.monotonic()
        if delay > 0 and stop.wait(delay):
            break
        next_at += interval
        privileged = sent % 2 == 1
        sent += 1
        body = json.dumps(pod(f"load-{index}-{sent}", image=image, privileged=privileged))
        try:
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            status, text = response.status, response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            connection = _connection(server, context)
            tally.fail(f"transport: {err!r}")
            continue
        if privileged and status == 403 and _denied_by_bulkhead(text):
            with tally.lock:
                tally.refused += 1
        elif not privileged and status == 201:
            with tally.lock:
                tally.admitted += 1
        else:
            kind = "privileged" if privileged else "compliant"
            tally.fail(f"{kind} Pod: HTTP {status}: {_reason(text)}")
    connection.close()


def _reason(text: str) -> str:
    """The apiserver's message (its end says why a webhook call failed), else the body's start."""
    try:
        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        message = None
    return message[-400:] if isinstance(message, str) else text[:300]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kubeconfig", type=pathlib.Path, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--rate", type=float, default=25.0, help="reviews per second in total")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)

    config = json.loads(args.kubeconfig.read_text(encoding="utf-8"))
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    context = ssl.create_default_context(cafile=cluster["certificate-authority"])
    context.load_cert_chain(user["client-certificate"], user["client-key"])
    server = urllib.parse.urlsplit(cluster["server"])

    stop = threading.Event()

    def on_signal(_signum: int, _frame: types.FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tally = Tally()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_worker,
            kwargs={
                "index": i, "interval": args.workers / args.rate, "server": server,
                "context": context, "namespace": args.namespace, "image": args.image,
                "tally": tally, "stop": stop,
            },
            daemon=True,
        )
        for i in range(args.workers)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    args.out.with_suffix(".started").touch()
    stop.wait()
    for thread in threads:
        thread.join(timeout=20)
    seconds = time.monotonic() - started
    with tally.lock:
        total = tally.admitted + tally.refused + tally.failed
        summary = {
            "seconds": round(seconds, 1),
            "reviews": total,
            "per_second": round(total / seconds, 1) if seconds else 0.0,
            "admitted": tally.admitted,
            "refused": tally.refused,
            "failed": tally.failed,
            "failures": tally.failures,
        }
    args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
