"""``helm test`` for Bulkhead: the installed webhook judges Pods as the chart's policies say.

Runs in the test hook Pod (the Bulkhead image, standard library only) with
the ``bulkhead-test`` ServiceAccount, which may create Pods in one namespace
and nothing else. It never stores anything: both Pods are sent with
``dryRun=All``, which runs admission (webhooks with ``sideEffects: None``
included) and then discards the object.

1. A privileged Pod (it breaks both Pod Security Standards). Expected, from
   the chart's values: ``deny`` - HTTP 403 from the webhook naming the
   policy; ``warn`` - admitted with a warning naming the policy; ``allow`` -
   admitted (no Deny or Warn policy is installed, so only the webhook's
   answer is proven: with failurePolicy Fail a silent webhook would refuse).
2. A Pod meeting the restricted standard: admitted, and not refused or
   warned about by any of the chart's policies.

Until the webhook answers (Pods starting, caBundle not yet injected) the
apiserver fails the call; that is retried until ``BULKHEAD_TEST_TIMEOUT``.
Exit 0 when every expectation holds, 1 otherwise; each step is printed.

Environment: ``BULKHEAD_TEST_NAMESPACE``, ``BULKHEAD_TEST_EXPECT``
(deny|warn|allow), ``BULKHEAD_TEST_POLICY`` (the policy whose verdict is
expected), ``BULKHEAD_TEST_CHART_POLICIES`` (comma list), ``BULKHEAD_TEST_WEBHOOK``,
``BULKHEAD_TEST_IMAGE``, ``BULKHEAD_TEST_TIMEOUT`` (seconds). The API address,
token and CA are the in-cluster ones unless ``BULKHEAD_TEST_API``,
``BULKHEAD_TEST_CREDENTIALS`` (a directory with ``token`` and ``ca.crt``) say
otherwise, as the chart's own tests do against their loopback apiserver.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request
from typing import Any

CREDENTIALS = "/var/run/secrets/kubernetes.io/serviceaccount"


def setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(f"BULKHEAD_TEST_{name}", default)
    if value is None:
        sys.exit(f"BULKHEAD_TEST_{name} is not set")
    return value


def api_base() -> str:
    explicit = os.environ.get("BULKHEAD_TEST_API")
    if explicit:
        return explicit.rstrip("/")
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}"


def pod(name: str, image: str, *, privileged: bool) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "probe",
        "image": image,
        "command": ["bulkhead", "version"],
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "10m", "memory": "16Mi"},
        },
    }
    if privileged:
        container["securityContext"] = {"privileged": True}
    else:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": "bulkhead", "bulkhead.dev/helm-test": "probe"},
        },
        "spec": {
            "automountServiceAccountToken": False,
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
        },
    }


def dry_run_create(document: dict[str, Any]) -> tuple[int, str, list[str]]:
    """POST the Pod with dryRun=All; (status, message, warnings)."""
    namespace = setting("NAMESPACE")
    credentials = os.environ.get("BULKHEAD_TEST_CREDENTIALS", CREDENTIALS)
    with open(os.path.join(credentials, "token"), encoding="utf-8") as handle:
        bearer = handle.read().strip()
    context = ssl.create_default_context(cafile=os.path.join(credentials, "ca.crt"))
    url = f"{api_base()}/api/v1/namespaces/{namespace}/pods?dryRun=All&fieldManager=bulkhead-test"
    request = urllib.request.Request(  # noqa: S310 - https only, built from the API address
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(request, timeout=30) as response:
            status, body, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as err:
        status, body, headers = err.code, err.read(), err.headers
    try:
        message = str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace")[:2000]
    warnings = (headers.get_all("Warning") or []) if headers is not None else []
    return status, message, warnings


def webhook_failed(status: int, message: str) -> bool:
    """The apiserver could not get a verdict (webhook not up yet, CA not injected yet)."""
    return status >= 500 or "failed calling webhook" in message


def judged(document: dict[str, Any], *, deadline: float) -> tuple[int, str, list[str]]:
    """Send ``document`` until the webhook gives a verdict or the deadline passes."""
    while True:
        status, message, warnings = dry_run_create(document)
        if not webhook_failed(status, message) or time.monotonic() > deadline:
            return status, message, warnings
        print(f"  webhook not answering yet ({status}): {message.splitlines()[0][:200]}")
        time.sleep(3)


def main() -> int:
    expect = setting("EXPECT")
    policy = setting("POLICY", "")
    webhook = setting("WEBHOOK")
    image = setting("IMAGE")
    chart_policies = [p for p in setting("CHART_POLICIES", "").split(",") if p]
    deadline = time.monotonic() + float(setting("TIMEOUT", "120"))
    failures: list[str] = []
    suffix = secrets.token_hex(3)

    print(f"1. privileged Pod, expected: {expect} ({policy or 'no policy'})")
    status, message, warnings = judged(
        pod(f"bulkhead-test-privileged-{suffix}", image, privileged=True), deadline=deadline
    )
    print(f"   -> HTTP {status}: {message[:600]}")
    for warning in warnings:
        print(f"   -> Warning: {warning[:300]}")
    denied = f'admission webhook "{webhook}" denied the request'
    if expect == "deny":
        if status != 403 or denied not in message or policy not in message:
            failures.append(f"the privileged Pod was not denied by {webhook} for {policy}")
    elif expect == "warn":
        if status != 201 or not any(policy in w for w in warnings):
            failures.append(f"the privileged Pod was not admitted with a warning from {policy}")
    elif status != 201:
        failures.append(f"the privileged Pod was not admitted (HTTP {status})")

    print("2. Pod meeting the restricted standard, expected: admitted")
    status, message, warnings = judged(
        pod(f"bulkhead-test-compliant-{suffix}", image, privileged=False), deadline=deadline
    )
    print(f"   -> HTTP {status}: {message[:600]}")
    for warning in warnings:
        print(f"   -> Warning: {warning[:300]}")
    blamed = [p for p in chart_policies if p in message or any(p in w for w in warnings)]
    if status != 201 and (webhook_failed(status, message) or blamed or denied not in message):
        failures.append(f"the compliant Pod was refused (HTTP {status})")
    elif status != 201:
        print("   (refused by a policy of your own, not by the chart's: not a failure)")
    if blamed:
        failures.append(f"the compliant Pod was judged by the chart's {', '.join(blamed)}")

    for failure in failures:
        print(f"FAIL: {failure}")
    print("PASS" if not failures else f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
