"""The chart's values: a closed schema, one comment per key, no value that nobody reads.

Owns: ``values.schema.json`` (every object closed with ``additionalProperties:
false``, or a typed map; the same keys as values.yaml), the one-line comment
above each key of values.yaml, bad values the schema refuses, contradictory
values the templates refuse with ``fail``, and the proof that every value is
used: each leaf of values.yaml is changed in turn and the rendered output
must change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import pytest

from tests.chart import rendering

# -- the schema ------------------------------------------------------------------


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target, root)


def _object_schemas(
    node: Any, root: Mapping[str, Any], path: str = "$"
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema (definitions included) whose type includes object, with a path."""
    if isinstance(node, Mapping):
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            yield path, node
        for key, child in node.items():
            yield from _object_schemas(child, root, f"{path}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _object_schemas(child, root, f"{path}[{index}]")


def test_every_object_in_the_schema_is_closed() -> None:
    root = rendering.schema()
    found = list(_object_schemas(root, root))
    assert len(found) >= 15
    for path, node in found:
        extra = node.get("additionalProperties")
        if "properties" in node:
            assert extra is False, f"{path}: objects with properties must be closed"
        else:
            assert isinstance(extra, Mapping), f"{path}: a free-form map must be typed"
            assert extra.get("type"), f"{path}: a free-form map must type its values"


def _schema_keys(
    node: Mapping[str, Any], root: Mapping[str, Any], values: Any, prefix: str = ""
) -> set[str]:
    """Dotted keys of the schema, down to where values.yaml holds a leaf.

    A key whose default is an empty map (``affinity: {}``) is one leaf: the
    schema below it describes what a user may put there, not more keys.
    """
    node = _resolve(node, root)
    properties = node.get("properties")
    descend = isinstance(values, Mapping) and (values or not prefix)
    if not isinstance(properties, Mapping) or not descend:
        return {prefix.rstrip(".")} if prefix else set()
    out: set[str] = set()
    for key, child in properties.items():
        out |= _schema_keys(child, root, values.get(key), f"{prefix}{key}.")
    return out


def _value_keys(values: Mapping[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in values.items():
        if isinstance(value, Mapping) and value and not key.endswith(("requests", "limits")):
            out |= _value_keys(value, f"{prefix}{key}.")
        else:
            out.add(f"{prefix}{key}")
    return out


def test_schema_and_values_have_the_same_keys() -> None:
    root = rendering.schema()
    defaults = rendering.default_values()
    schema_keys = _schema_keys(root, root, defaults)
    value_keys = _value_keys(defaults)
    # requests/limits are closed objects in the schema, inline maps in values.yaml.
    schema_keys = {re.sub(r"\.(requests|limits)\.(cpu|memory)$", r".\1", k) for k in schema_keys}
    assert schema_keys == value_keys, (
        f"only in the schema: {sorted(schema_keys - value_keys)}; "
        f"only in values.yaml: {sorted(value_keys - schema_keys)}"
    )


def test_every_key_has_a_one_line_comment_above_it() -> None:
    lines = rendering.VALUES_FILE.read_text(encoding="utf-8").splitlines()
    keys = 0
    for number, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z][A-Za-z0-9]*):", line)
        if not match:
            continue
        keys += 1
        above = lines[number - 1] if number else ""
        indent = match.group(1)
        assert above.startswith(f"{indent}# "), f"values.yaml:{number + 1}: {line.strip()}"
        before = lines[number - 2] if number > 1 else ""
        assert not before.startswith(f"{indent}# "), (
            f"values.yaml:{number + 1}: comment longer than one line"
        )
    assert keys > 40


def test_defaults_pass_the_schema() -> None:
    assert rendering.template().returncode == 0


BAD_VALUES: Final[list[tuple[str, dict[str, Any], str]]] = [
    ("unknown top-level key", {"webhooks": {}}, "additional properties 'webhooks'"),
    ("unknown nested key", {"webhook": {"replica": 3}}, "additional properties 'replica'"),
    ("unknown key in a list item", {"webhook": {"tolerations": [{"keys": "x"}]}}, "'keys'"),
    ("digest not sha256", {"image": {"digest": "sha256:abc"}}, "/image/digest"),
    ("failure policy", {"webhook": {"failurePolicy": "Maybe"}}, "/webhook/failurePolicy"),
    ("timeout above 30s", {"webhook": {"timeoutSeconds": 31}}, "/webhook/timeoutSeconds"),
    ("privileged port", {"webhook": {"containerPort": 443}}, "/webhook/containerPort"),
    ("policy action", {"policies": {"baseline": "Enforce"}}, "/policies/baseline"),
    ("policy version", {"policies": {"version": "1.30"}}, "/policies/version"),
    ("duration", {"operator": {"certLifetime": "30 days"}}, "/operator/certLifetime"),
    ("memory quantity", {"webhook": {"resources": {"limits": {"memory": "lots"}}}}, "memory"),
    ("label values", {"serviceMonitor": {"labels": {"release": 1}}}, "/serviceMonitor/labels"),
    ("pull secrets as names", {"imagePullSecrets": ["regcred"]}, "/imagePullSecrets/0"),
    ("extra argument", {"webhook": {"extraArgs": ["debug"]}}, "/webhook/extraArgs/0"),
    ("extra env name", {"operator": {"extraEnv": [{"name": "A B"}]}}, "/operator/extraEnv/0"),
    (
        "selector operator",
        {"webhook": {"objectSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}}},
        "operator",
    ),
    ("spread", {"webhook": {"topologySpreadConstraints": [{"maxSkew": 1}]}}, "topologyKey"),
    ("cert-manager duration", {"certManager": {"duration": "30d"}}, "/certManager/duration"),
    ("excluded namespace", {"webhook": {"excludeNamespaces": ["Team_A"]}}, "excludeNamespaces"),
]


@pytest.mark.parametrize(
    ("values", "expected"), [(v, e) for _, v, e in BAD_VALUES], ids=[i for i, _, _ in BAD_VALUES]
)
def test_schema_refuses(values: dict[str, Any], expected: str) -> None:
    result = rendering.template(rendering.merge(rendering.BASE, values))
    assert result.returncode != 0
    assert "schema" in result.stderr.lower() or "at '/" in result.stderr, result.stderr
    assert expected in result.stderr, result.stderr


CONTRADICTIONS: Final[list[tuple[str, dict[str, Any], str, str]]] = [
    (
        "grace period shorter than the drain",
        {"webhook": {"terminationGracePeriodSeconds": 30}},
        "bulkhead-system",
        "must exceed webhook.preStopSleepSeconds + webhook.shutdownTimeoutSeconds (30)",
    ),
    (
        "budget that blocks every drain",
        {"webhook": {"replicas": 1}},
        "bulkhead-system",
        "minAvailable (1) must be below webhook.replicas (1)",
    ),
    (
        "operator ports clash",
        {"operator": {"metricsPort": 8081}},
        "bulkhead-system",
        "both 8081",
    ),
    (
        "test namespace exempt by name",
        {"test": {"namespace": "kube-system"}},
        "bulkhead-system",
        'test.namespace "kube-system" is exempt',
    ),
    (
        "test namespace is the release namespace",
        {"test": {"namespace": "security"}},
        "security",
        'test.namespace "security" is exempt',
    ),
    (
        "test namespace excluded",
        {"test": {"namespace": "legacy"}, "webhook": {"excludeNamespaces": ["legacy"]}},
        "bulkhead-system",
        'test.namespace "legacy" is exempt',
    ),
    (
        "release in the default namespace",
        {"test": {"namespace": "apps"}},
        "default",
        'not "default"',
    ),
    (
        "cert-manager mode without cert-manager",
        {"certManager": {"enabled": True}},
        "bulkhead-system",
        "certManager.enabled needs cert-manager",
    ),
    (
        "extra argument the chart owns",
        {"operator": {"extraArgs": ["--namespace=elsewhere"]}},
        "bulkhead-system",
        "operator.extraArgs: --namespace is set by the chart",
    ),
    (
        "probe port is the webhook port",
        {"webhook": {"probePort": 8443}},
        "bulkhead-system",
        "webhook.probePort and webhook.containerPort are both 8443",
    ),
    (
        "mutual TLS without the client CA",
        {"webhook": {"mutualTLS": {"enabled": True}}},
        "bulkhead-system",
        "webhook.mutualTLS.enabled needs webhook.mutualTLS.clientCASecret",
    ),
    (
        "memory below the worst case",
        {"webhook": {"workers": 4}},
        "bulkhead-system",
        "is below the server's worst case for 4 workers",
    ),
    (
        "ServiceMonitor without its CRD",
        {"serviceMonitor": {"enabled": True}},
        "bulkhead-system",
        "serviceMonitor.enabled needs the Prometheus Operator's CRDs",
    ),
    (
        "PrometheusRule without its CRD",
        {"prometheusRule": {"enabled": True}},
        "bulkhead-system",
        "prometheusRule.enabled needs the Prometheus Operator's CRDs",
    ),
]


@pytest.mark.parametrize(
    ("values", "namespace", "expected"),
    [(v, n, e) for _, v, n, e in CONTRADICTIONS],
    ids=[i for i, _, _, _ in CONTRADICTIONS],
)
def test_contradictions_fail(values: dict[str, Any], namespace: str, expected: str) -> None:
    result = rendering.template(rendering.merge(rendering.BASE, values), namespace=namespace)
    assert result.returncode != 0, "rendered although the values contradict each other"
    assert expected in result.stderr, result.stderr


IMAGES: Final[list[tuple[str, dict[str, Any], str]]] = [
    ("defaults: the appVersion tag", {"digest": ""}, "ghcr.io/bulkhead-dev/bulkhead:0.1.0"),
    ("a tag", {"digest": "", "tag": "0.2.0"}, "ghcr.io/bulkhead-dev/bulkhead:0.2.0"),
    ("a digest", {}, f"ghcr.io/bulkhead-dev/bulkhead@{rendering.DIGEST}"),
    (
        "a digest wins over a tag",
        {"tag": "0.2.0"},
        f"ghcr.io/bulkhead-dev/bulkhead@{rendering.DIGEST}",
    ),
]


@pytest.mark.parametrize(
    ("image", "expected"), [(v, e) for _, v, e in IMAGES], ids=[i for i, _, _ in IMAGES]
)
def test_image_reference(image: dict[str, Any], expected: str) -> None:
    docs = rendering.render({"image": image})
    for name in ("bulkhead-webhook", "bulkhead-operator"):
        workload = rendering.find(docs, "Deployment", name)
        assert rendering.pod_spec(workload)["containers"][0]["image"] == expected


def test_defaults_render_and_lint_with_no_values_at_all() -> None:
    """What a newcomer runs first: no --set, no values file."""
    result = rendering.helm("template", "bulkhead", str(rendering.CHART), "-n", "bulkhead-system")
    assert result.returncode == 0, result.stderr
    lint = rendering.helm("lint", "--strict", str(rendering.CHART), "-n", "bulkhead-system")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "0 chart(s) failed" in lint.stdout, lint.stdout


# -- every value is used -----------------------------------------------------------

_SM_ON: Final = {"serviceMonitor": {"enabled": True}}
_CM_ON: Final = {"certManager": {"enabled": True}}
_DASHBOARD_ON: Final = {"grafanaDashboard": {"enabled": True}}
_TOLERATION: Final = [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]
_AFFINITY: Final = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                    ]
                }
            ]
        }
    }
}
_SPREAD: Final = [
    {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
    }
]
_ENV: Final = [{"name": "TZ", "value": "UTC"}]
_SELECTOR: Final = {"matchExpressions": [{"key": "bulkhead.dev/skip", "operator": "DoesNotExist"}]}


def _pod_values(component: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """The Pod-level values every component has."""
    return {
        f"{component}.podAnnotations": ({"example.com/owner": "platform"}, {}),
        f"{component}.podLabels": ({"team": "platform"}, {}),
        f"{component}.nodeSelector": ({"kubernetes.io/os": "linux"}, {}),
        f"{component}.tolerations": (_TOLERATION, {}),
        f"{component}.affinity": (_AFFINITY, {}),
        f"{component}.topologySpreadConstraints": (_SPREAD, {}),
        f"{component}.priorityClassName": ("system-cluster-critical", {}),
        f"{component}.extraArgs": (["--log-level=debug"], {}),
        f"{component}.extraEnv": (_ENV, {}),
        f"{component}.serviceAccount.annotations": ({"example.com/role": "bulkhead"}, {}),
    }


#: Each leaf of values.yaml -> (another valid value, values it only matters with).
_AUDIT_ON: Final = {"audit": {"enabled": True}}
CHANGES: Final[dict[str, tuple[Any, dict[str, Any]]]] = {
    "image.repository": ("registry.example.com/platform/bulkhead", {}),
    "image.digest": ("sha256:" + "cd" * 32, {}),
    "image.tag": ("0.1.1", {"image": {"digest": ""}}),
    "image.pullPolicy": ("Always", {}),
    "imagePullSecrets": ([{"name": "registry-credentials"}], {}),
    "webhook.replicas": (3, {}),
    "webhook.failurePolicy": ("Ignore", {}),
    "webhook.timeoutSeconds": (10, {}),
    "webhook.excludeNamespaces": (["legacy"], {}),
    "webhook.objectRules.services": (True, {}),
    "webhook.objectRules.ingressTLS": (True, {}),
    "webhook.objectRules.rbac": (True, {}),
    "webhook.objectRules.networkPolicy": (True, {}),
    "webhook.containerPort": (9443, {}),
    "webhook.probePort": (9080, {}),
    "webhook.workers": (1, {}),
    "webhook.bodyBudgetMiB": (16, {}),
    "webhook.mutualTLS.enabled": (True, {"webhook": {"mutualTLS": {"clientCASecret": "ca"}}}),
    "webhook.mutualTLS.clientCASecret": (
        "other-ca",
        {"webhook": {"mutualTLS": {"enabled": True, "clientCASecret": "ca"}}},
    ),
    "webhook.registries.caSecret": ("registry-ca", {}),
    "webhook.registries.credentialsSecret": ("registry-credentials", {}),
    "webhook.registries.pullSecrets": (True, {}),
    "webhook.logLevel": ("debug", {}),
    "webhook.preStopSleepSeconds": (5, {}),
    "webhook.shutdownTimeoutSeconds": (15, {}),
    "webhook.terminationGracePeriodSeconds": (60, {}),
    "webhook.antiAffinity": ("hard", {}),
    "webhook.resources.requests": ({"cpu": "200m", "memory": "128Mi"}, {}),
    "webhook.resources.limits": ({"cpu": "1", "memory": "1Gi"}, {}),
    "webhook.podDisruptionBudget.enabled": (False, {}),
    "webhook.podDisruptionBudget.minAvailable": (2, {"webhook": {"replicas": 3}}),
    "webhook.service.port": (8443, {}),
    "webhook.service.externalName": ("localhost", {}),
    **_pod_values("webhook"),
    "webhook.namespaceSelector": ({"matchLabels": {"bulkhead.dev/judged": "true"}}, {}),
    "webhook.objectSelector": (_SELECTOR, {}),
    "operator.logLevel": ("debug", {}),
    "operator.caLifetime": ("730d", {}),
    "operator.certLifetime": ("7d", {}),
    "operator.rotationOverlap": ("10m", {}),
    "operator.checkInterval": ("30s", {}),
    "operator.exclusionWindow": ("30d", {}),
    "operator.keySecrets": (True, {}),
    "operator.metricsPort": (9191, {}),
    "operator.healthPort": (8181, {}),
    "operator.resources.requests": ({"cpu": "100m", "memory": "128Mi"}, {}),
    "operator.resources.limits": ({"cpu": "500m", "memory": "512Mi"}, {}),
    **_pod_values("operator"),
    "audit.enabled": (True, {}),
    "audit.installReportCRDs": (False, _AUDIT_ON),
    "audit.batchSeconds": (5, _AUDIT_ON),
    "audit.resyncSeconds": (300, _AUDIT_ON),
    "audit.maxResults": (100, _AUDIT_ON),
    "audit.logLevel": ("debug", _AUDIT_ON),
    "audit.healthPort": (8182, _AUDIT_ON),
    "audit.resources.requests": ({"cpu": "100m", "memory": "128Mi"}, _AUDIT_ON),
    "audit.resources.limits": ({"cpu": "1", "memory": "512Mi"}, _AUDIT_ON),
    **{path: (value, _AUDIT_ON) for path, (value, _) in _pod_values("audit").items()},
    "policies.baseline": ("Warn", {}),
    "policies.restricted": ("Deny", {}),
    "policies.version": ("v1.30", {}),
    "networkPolicy.enabled": (False, {}),
    "networkPolicy.webhookFrom": ([{"ipBlock": {"cidr": "10.0.0.0/28"}}], {}),
    "serviceMonitor.enabled": (True, {}),
    "serviceMonitor.interval": ("60s", _SM_ON),
    "serviceMonitor.labels": ({"release": "prometheus"}, _SM_ON),
    "prometheusRule.enabled": (True, {}),
    "prometheusRule.labels": ({"release": "prometheus"}, {"prometheusRule": {"enabled": True}}),
    "grafanaDashboard.enabled": (True, {}),
    "grafanaDashboard.sidecarLabel": ("dashboards", _DASHBOARD_ON),
    "grafanaDashboard.sidecarLabelValue": ("platform", _DASHBOARD_ON),
    "grafanaDashboard.labels": ({"team": "platform"}, _DASHBOARD_ON),
    "grafanaDashboard.annotations": ({"grafana_folder": "Security"}, _DASHBOARD_ON),
    "certManager.enabled": (True, {}),
    "certManager.duration": ("2160h", _CM_ON),
    "certManager.issuerRef.name": ("platform-ca", _CM_ON),
    "certManager.issuerRef.kind": (
        "ClusterIssuer",
        {"certManager": {"enabled": True, "issuerRef": {"name": "platform-ca"}}},
    ),
    "certManager.issuerRef.group": (
        "issuers.example.com",
        {"certManager": {"enabled": True, "issuerRef": {"name": "platform-ca"}}},
    ),
    "test.namespace": ("apps", {}),
}


def _value_leaves() -> list[str]:
    """values.yaml's leaves, requests/limits counted as one each (inline maps there)."""
    out: list[str] = []
    for path, _ in rendering.leaves(rendering.default_values()):
        trimmed = re.sub(r"\.(requests|limits)\.(cpu|memory)$", r".\1", path)
        if trimmed not in out:
            out.append(trimmed)
    return out


def test_the_change_table_covers_exactly_the_values() -> None:
    assert set(CHANGES) == set(_value_leaves())


def _output(values: Mapping[str, Any]) -> tuple[int, str]:
    result = rendering.template(values, extra=rendering.OPTIONAL_APIS)
    return result.returncode, result.stdout if result.returncode == 0 else result.stderr


@pytest.mark.parametrize("path", sorted(CHANGES))
def test_every_value_changes_the_output(path: str) -> None:
    changed, context = CHANGES[path]
    before_values = rendering.merge(rendering.BASE, context)
    after_values = rendering.merge(before_values, rendering.nested(path, changed))
    assert after_values != before_values, f"{path}: the change is the default"
    before, after = _output(before_values), _output(after_values)
    assert before != after, f"{path} changed from its default to {changed!r}: same output"
    assert after[0] == 0, after[1]
