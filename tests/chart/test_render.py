"""What the chart renders: the objects, how they fit together, and what the values switch.

Owns: the webhook registration (every pod-bearing kind Bulkhead judges, the
harness's tested rules, exemptions, fail-closed defaults, no caBundle), the
webhook and operator Deployments (replicas, anti-affinity, probes, drain,
read-only TLS Secret, names the operator is told matching the objects), the
Service, PDB, NetworkPolicies, ServiceMonitors, the default policies, the
helm test hook's expectations, and NOTES.txt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pytest
import yaml

from devcluster import registration
from tests.chart import rendering
from webhook import admission, rules

NS: Final = rendering.NAMESPACE
#: kind -> (API group, resource) as a webhook rule names it.
RESOURCES: Final = {
    "Pod": ("", "pods"),
    "ReplicationController": ("", "replicationcontrollers"),
    "PodTemplate": ("", "podtemplates"),
    "Deployment": ("apps", "deployments"),
    "ReplicaSet": ("apps", "replicasets"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
}
#: The resource of each kind the object rules judge.
OBJECT_RESOURCES: Final = {
    "Service": "services",
    "Ingress": "ingresses",
    "Role": "roles",
    "RoleBinding": "rolebindings",
    "ClusterRole": "clusterroles",
    "ClusterRoleBinding": "clusterrolebindings",
    "NetworkPolicy": "networkpolicies",
}
CLUSTER_SCOPED: Final = {
    "ClusterRole",
    "ClusterRoleBinding",
    "ValidatingWebhookConfiguration",
    "ClusterContainerPolicy",
}


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return rendering.render()


def _webhook(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    configuration = rendering.find(docs, "ValidatingWebhookConfiguration", "bulkhead")
    (webhook,) = configuration["webhooks"]
    result: dict[str, Any] = webhook
    return result


def _container(docs: Sequence[Mapping[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (container,) = rendering.pod_spec(rendering.find(docs, kind, name))["containers"]
    result: dict[str, Any] = container
    return result


def _flag(container: Mapping[str, Any], name: str) -> str:
    args: list[str] = container["args"]
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} in {container['args']}"
    return values[0]


# -- the registration ------------------------------------------------------------


def test_registration_fails_closed_with_the_documented_settings(docs: list[dict[str, Any]]) -> None:
    webhook = _webhook(docs)
    assert webhook["name"] == "validate.bulkhead.dev"
    assert webhook["failurePolicy"] == "Fail"
    assert webhook["timeoutSeconds"] == 5
    assert webhook["sideEffects"] == "None"
    assert webhook["admissionReviewVersions"] == ["v1"]
    assert webhook["matchPolicy"] == "Equivalent"
    assert webhook["clientConfig"] == {
        "service": {"namespace": NS, "name": "bulkhead", "path": "/validate", "port": 443}
    }, "no caBundle: the operator injects it, and Helm must never own or clear it"


def test_registration_covers_every_pod_bearing_kind(docs: list[dict[str, Any]]) -> None:
    rules = _webhook(docs)["rules"]
    registered = {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
    assert set(admission.POD_KINDS) == set(RESOURCES)
    assert registered == {*RESOURCES.values(), ("", "pods/ephemeralcontainers")}
    for rule in rules:
        assert rule["operations"] == ["CREATE", "UPDATE"]
        assert rule["apiVersions"] == ["v1"]
        assert rule["scope"] == "Namespaced"


@pytest.mark.parametrize(
    ("switches", "kinds"),
    [
        ({"services": True}, {"Service"}),
        ({"ingressTLS": True}, {"Ingress"}),
        ({"rbac": True}, {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}),
        ({"networkPolicy": True}, {"NetworkPolicy"}),
        (
            {"services": True, "ingressTLS": True, "rbac": True, "networkPolicy": True},
            {*rules.OBJECT_KINDS, "NetworkPolicy"},
        ),
    ],
    ids=["services", "ingressTLS", "rbac", "networkPolicy", "all"],
)
def test_object_rules_register_their_kinds_only_when_turned_on(
    docs: list[dict[str, Any]], switches: dict[str, bool], kinds: set[str]
) -> None:
    on = _webhook(rendering.render({"webhook": {"objectRules": switches}}))["rules"]
    added = [rule for rule in on if rule not in _webhook(docs)["rules"]]
    expected = [
        registration.OBJECT_RULES[name] for name in registration.OBJECT_RULES if name in switches
    ]
    assert added == expected
    registered = {r for rule in added for r in rule["resources"]}
    assert registered == {OBJECT_RESOURCES[kind] for kind in kinds}


def test_registration_is_the_one_the_end_to_end_tests_prove(docs: list[dict[str, Any]]) -> None:
    """tests/e2e judges real requests through registration.RULES: the chart registers those."""

    def normal(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            ({k: sorted(v) if isinstance(v, list) else v for k, v in r.items()} for r in rules),
            key=lambda r: r["apiGroups"],
        )

    assert normal(_webhook(docs)["rules"]) == normal(registration.RULES)


@pytest.mark.parametrize(
    ("values", "namespace", "exempt"),
    [
        ({}, NS, ["kube-system", NS]),
        ({}, "security", ["kube-system", "security"]),
        (
            {"webhook": {"excludeNamespaces": ["legacy", "kube-system"]}},
            NS,
            ["kube-system", NS, "legacy"],
        ),
    ],
    ids=["default", "other release namespace", "extra exclusions"],
)  # fmt: skip
def test_exempt_namespaces(values: dict[str, Any], namespace: str, exempt: list[str]) -> None:
    docs = rendering.render(values, namespace=namespace)
    assert _webhook(docs)["namespaceSelector"] == {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": exempt}
        ]
    }
    for level in ("baseline", "restricted"):
        policy = rendering.find(docs, "ClusterContainerPolicy", f"bulkhead-{level}")
        assert policy["spec"]["exclude"][0]["namespaces"] == exempt


# -- the webhook and operator workloads --------------------------------------------


def test_webhook_deployment(docs: list[dict[str, Any]]) -> None:
    deployment = rendering.find(docs, "Deployment", "bulkhead-webhook")
    spec = deployment["spec"]
    pod = rendering.pod_spec(deployment)
    container = _container(docs, "Deployment", "bulkhead-webhook")
    assert spec["replicas"] == 2
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    (term,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert (
        term["podAffinityTerm"]["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    )
    # probes on the plain-HTTP probe port, so the webhook port can require client certificates
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/readyz",
        "port": "probe",
        "scheme": "HTTP",
    }
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "probe",
        "scheme": "HTTP",
    }
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"https": 8443, "probe": 8080}
    assert _flag(container, "probe-port") == "8080"
    assert _flag(container, "workers") == "2"
    # a review not judged at 80 % of the apiserver's 5 s timeout is denied by the server
    assert _flag(container, "decision-timeout") == "4"
    assert not any(a.startswith("--client-ca-file") for a in container["args"])
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 10}}}
    assert pod["terminationGracePeriodSeconds"] > 10 + int(_flag(container, "shutdown-timeout"))
    # cluster mode: policies come from the CRs it watches, never from files
    assert container["args"][0] == "serve"
    assert not any(a.startswith(("--policy-file", "--profile")) for a in container["args"])
    assert pod["serviceAccountName"] == "bulkhead-webhook"


def test_webhook_serves_the_operators_secret_read_only(docs: list[dict[str, Any]]) -> None:
    pod = rendering.pod_spec(rendering.find(docs, "Deployment", "bulkhead-webhook"))
    container = _container(docs, "Deployment", "bulkhead-webhook")
    operator = _container(docs, "Deployment", "bulkhead-operator")
    (tls,) = [v for v in pod["volumes"] if v["name"] == "tls"]
    assert tls["secret"]["secretName"] == _flag(operator, "tls-secret") == "bulkhead-webhook-tls"
    assert tls["secret"]["defaultMode"] == 0o440
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "tls"]
    assert mount["readOnly"] is True
    assert _flag(container, "tls-cert-file") == f"{mount['mountPath']}/tls.crt"
    assert _flag(container, "tls-private-key-file") == f"{mount['mountPath']}/tls.key"


def test_operator_is_told_the_names_the_chart_installs(docs: list[dict[str, Any]]) -> None:
    deployment = rendering.find(docs, "Deployment", "bulkhead-operator")
    operator = _container(docs, "Deployment", "bulkhead-operator")
    service = rendering.find(docs, "Service", "bulkhead")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert operator["args"][0] == "operator"
    assert _flag(operator, "namespace") == NS
    assert _flag(operator, "service-name") == service["metadata"]["name"]
    assert _flag(operator, "webhook-configuration") == "bulkhead"
    assert _flag(operator, "probe-endpoint") == "service"
    assert rendering.pod_spec(deployment)["serviceAccountName"] == "bulkhead-operator"
    role = rendering.find(docs, "Role", "bulkhead-operator")
    names = {n for rule in role["rules"] for n in rule.get("resourceNames", [])}
    assert names == {_flag(operator, "tls-secret"), _flag(operator, "ca-secret")}
    cluster_role = rendering.find(docs, "ClusterRole", "bulkhead-operator")
    (webhooks,) = [r for r in cluster_role["rules"] if "resourceNames" in r]
    assert webhooks["resourceNames"] == [_flag(operator, "webhook-configuration")]
    assert "create" not in webhooks["verbs"], "the operator must never create a configuration"


@pytest.mark.parametrize("workload", ["bulkhead-webhook", "bulkhead-operator"])
def test_workloads_use_an_explicit_short_lived_api_token(
    docs: list[dict[str, Any]], workload: str
) -> None:
    pod = rendering.pod_spec(rendering.find(docs, "Deployment", workload))
    assert pod["automountServiceAccountToken"] is False
    (token,) = [v for v in pod["volumes"] if v["name"] == "api-token"]
    sources = token["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["expirationSeconds"] == 3600
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "api-token"]
    assert mount == {
        "name": "api-token",
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        "readOnly": True,
    }


def test_every_object_lives_in_the_release_namespace(docs: list[dict[str, Any]]) -> None:
    test_namespace = rendering.default_values()["test"]["namespace"]
    for doc in docs:
        kind, metadata = doc["kind"], doc["metadata"]
        if kind in CLUSTER_SCOPED:
            assert "namespace" not in metadata, f"{kind}/{metadata['name']}"
        elif kind in ("Role", "RoleBinding") and metadata["name"] == "bulkhead-test":
            assert metadata["namespace"] == test_namespace
        else:
            assert metadata["namespace"] == NS, f"{kind}/{metadata['name']}"


def test_hard_anti_affinity() -> None:
    docs = rendering.render({"webhook": {"antiAffinity": "hard"}})
    pod = rendering.pod_spec(rendering.find(docs, "Deployment", "bulkhead-webhook"))
    (term,) = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"


# -- Service, budget, network policies, monitoring ----------------------------------


def test_service_and_budget_select_the_webhook_pods(docs: list[dict[str, Any]]) -> None:
    labels = rendering.find(docs, "Deployment", "bulkhead-webhook")["spec"]["template"]["metadata"]
    service = rendering.find(docs, "Service", "bulkhead")
    budget = rendering.find(docs, "PodDisruptionBudget", "bulkhead-webhook")
    assert service["spec"]["selector"].items() <= labels["labels"].items()
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}
    ]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels["labels"].items()
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_external_name_service_routes_elsewhere() -> None:
    docs = rendering.render({"webhook": {"service": {"externalName": "localhost", "port": 31443}}})
    service = rendering.find(docs, "Service", "bulkhead")
    assert service["spec"] == {
        "type": "ExternalName",
        "externalName": "localhost",
        "ports": [{"name": "https", "port": 31443, "protocol": "TCP"}],
    }
    assert _webhook(docs)["clientConfig"]["service"]["port"] == 31443
    # no EndpointSlices behind an ExternalName: the operator probes the name itself
    operator = _container(docs, "Deployment", "bulkhead-operator")
    assert _flag(operator, "probe-endpoint") == "localhost:31443"


def test_network_policies_admit_only_the_webhook_port(docs: list[dict[str, Any]]) -> None:
    webhook = rendering.find(docs, "NetworkPolicy", "bulkhead-webhook")["spec"]
    operator = rendering.find(docs, "NetworkPolicy", "bulkhead-operator")["spec"]
    assert webhook["policyTypes"] == ["Ingress"]
    assert webhook["ingress"] == [{"ports": [{"port": 8443, "protocol": "TCP"}]}]
    assert operator["policyTypes"] == ["Ingress"]
    assert operator["ingress"] == []
    monitored = rendering.render(
        {"serviceMonitor": {"enabled": True}}, extra=rendering.MONITORING_API
    )
    operator = rendering.find(monitored, "NetworkPolicy", "bulkhead-operator")["spec"]
    assert operator["ingress"] == [{"ports": [{"port": 9090, "protocol": "TCP"}]}]
    webhook = rendering.find(monitored, "NetworkPolicy", "bulkhead-webhook")["spec"]
    assert {"ports": [{"port": 8080, "protocol": "TCP"}]} in webhook["ingress"]


def test_the_webhook_port_can_be_limited_to_the_apiservers() -> None:
    apiservers = [{"ipBlock": {"cidr": "10.0.0.0/28"}}]
    docs = rendering.render({"networkPolicy": {"webhookFrom": apiservers}})
    webhook = rendering.find(docs, "NetworkPolicy", "bulkhead-webhook")["spec"]
    assert webhook["ingress"] == [
        {"ports": [{"port": 8443, "protocol": "TCP"}], "from": apiservers}
    ]


def test_registry_ca_and_credentials_come_from_secrets() -> None:
    docs = rendering.render(
        {
            "webhook": {
                "registries": {
                    "caSecret": "registry-ca",
                    "credentialsSecret": "registry-credentials",
                }
            }
        }
    )
    pod = rendering.pod_spec(rendering.find(docs, "Deployment", "bulkhead-webhook"))
    container = _container(docs, "Deployment", "bulkhead-webhook")
    for name, secret, key, flag in (
        ("registry-ca", "registry-ca", "ca.crt", "registry-ca-file"),
        (
            "registry-credentials",
            "registry-credentials",
            ".dockerconfigjson",
            "registry-credentials-file",
        ),
    ):
        (volume,) = [v for v in pod["volumes"] if v["name"] == name]
        assert volume["secret"]["secretName"] == secret
        (item,) = volume["secret"]["items"]
        assert item["key"] == key
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == name]
        assert mount["readOnly"] is True
        assert _flag(container, flag) == f"{mount['mountPath']}/{item['path']}"


def test_registries_default_to_the_system_store_and_anonymous() -> None:
    container = _container(rendering.render({}), "Deployment", "bulkhead-webhook")
    assert not any("--registry-" in arg for arg in container["args"])


def test_pull_secrets_add_the_flag_and_read_access_to_pull_secrets_only_when_on() -> None:
    off = rendering.render({})
    assert not [d for d in off if d["metadata"]["name"] == "bulkhead-webhook-pull-secrets"]
    docs = rendering.render({"webhook": {"registries": {"pullSecrets": True}}})
    container = _container(docs, "Deployment", "bulkhead-webhook")
    assert "--registry-pull-secrets" in container["args"]
    role = rendering.find(docs, "ClusterRole", "bulkhead-webhook-pull-secrets")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets", "serviceaccounts"], "verbs": ["list", "watch"]}
    ]
    binding = rendering.find(docs, "ClusterRoleBinding", "bulkhead-webhook-pull-secrets")
    assert binding["roleRef"]["name"] == "bulkhead-webhook-pull-secrets"
    (subject,) = binding["subjects"]
    assert subject["name"] == "bulkhead-webhook"


def test_key_secrets_grant_the_operator_get_on_secrets_only_when_on() -> None:
    off = rendering.render({})
    assert not [d for d in off if d["metadata"]["name"] == "bulkhead-operator-key-secrets"]
    operator = rendering.find(off, "ClusterRole", "bulkhead-operator")
    assert not [r for r in operator["rules"] if "secrets" in r["resources"]]
    docs = rendering.render({"operator": {"keySecrets": True}})
    role = rendering.find(docs, "ClusterRole", "bulkhead-operator-key-secrets")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    binding = rendering.find(docs, "ClusterRoleBinding", "bulkhead-operator-key-secrets")
    assert binding["roleRef"]["name"] == "bulkhead-operator-key-secrets"
    (subject,) = binding["subjects"]
    assert subject["name"] == "bulkhead-operator"


def test_mutual_tls_requires_the_apiservers_client_certificate() -> None:
    docs = rendering.render(
        {"webhook": {"mutualTLS": {"enabled": True, "clientCASecret": "apiserver-client-ca"}}}
    )
    pod = rendering.pod_spec(rendering.find(docs, "Deployment", "bulkhead-webhook"))
    container = _container(docs, "Deployment", "bulkhead-webhook")
    (volume,) = [v for v in pod["volumes"] if v["name"] == "client-ca"]
    assert volume["secret"]["secretName"] == "apiserver-client-ca"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "client-ca"]
    assert mount["readOnly"] is True
    assert _flag(container, "client-ca-file") == f"{mount['mountPath']}/ca.crt"
    # the kubelet's probes do not present a certificate: they stay on the plain probe port
    assert container["readinessProbe"]["httpGet"]["port"] == "probe"


def test_service_monitors_are_opt_in(docs: list[dict[str, Any]]) -> None:
    assert not [d for d in docs if d["kind"] == "ServiceMonitor"]
    monitored = rendering.render(
        {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}},
        extra=rendering.MONITORING_API,
    )
    webhook = rendering.find(monitored, "ServiceMonitor", "bulkhead-webhook")
    (endpoint,) = webhook["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["scheme"], endpoint["path"]) == ("probe", "http", "/metrics")
    assert webhook["metadata"]["labels"]["release"] == "prom"
    metrics = rendering.find(monitored, "Service", "bulkhead-webhook-metrics")
    assert metrics["spec"]["ports"] == [
        {"name": "probe", "port": 8080, "targetPort": "probe", "protocol": "TCP"}
    ]
    selected = webhook["spec"]["selector"]["matchLabels"]
    assert selected.items() <= metrics["metadata"]["labels"].items()
    assert (
        not selected.items()
        <= rendering.find(monitored, "Service", "bulkhead")["metadata"]["labels"].items()
    )
    operator = rendering.find(monitored, "ServiceMonitor", "bulkhead-operator")
    assert operator["spec"]["endpoints"][0]["port"] == "metrics"
    rendering.find(monitored, "Service", "bulkhead-operator-metrics")
    assert not [d for d in monitored if d["metadata"]["name"].startswith("bulkhead-audit-")]
    audited = rendering.render(
        {"serviceMonitor": {"enabled": True}, "audit": {"enabled": True}},
        extra=rendering.MONITORING_API,
    )
    audit = rendering.find(audited, "ServiceMonitor", "bulkhead-audit")
    assert (audit["spec"]["endpoints"][0]["port"], audit["spec"]["endpoints"][0]["path"]) == (
        "health",
        "/metrics",
    )
    audit_service = rendering.find(audited, "Service", "bulkhead-audit-metrics")
    assert audit_service["spec"]["ports"][0]["port"] == 8082


def test_alerts_and_dashboard_are_opt_in_and_ship_the_files(docs: list[dict[str, Any]]) -> None:
    assert not [d for d in docs if d["kind"] == "PrometheusRule"]
    assert not [
        d for d in docs if d["kind"] == "ConfigMap" and "dashboard" in d["metadata"]["name"]
    ]
    rendered = rendering.render(
        {
            "prometheusRule": {"enabled": True, "labels": {"release": "prom"}},
            "grafanaDashboard": {"enabled": True},
        },
        extra=rendering.RULES_API,
    )
    files = rendering.CHART / "files" / "monitoring"
    rule = rendering.find(rendered, "PrometheusRule", "bulkhead")
    assert rule["spec"]["groups"] == yaml.safe_load((files / "alerts.yaml").read_text())["groups"]
    assert rule["metadata"]["labels"]["release"] == "prom"
    dashboard = rendering.find(rendered, "ConfigMap", "bulkhead-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["bulkhead.json"]) == json.loads(
        (files / "dashboard.json").read_text()
    )


# -- values users expect --------------------------------------------------------------


def test_pod_labels_never_break_the_selector() -> None:
    docs = rendering.render(
        {"webhook": {"podLabels": {"app.kubernetes.io/component": "x", "team": "a"}}}
    )
    webhook = rendering.find(docs, "Deployment", "bulkhead-webhook")
    labels = webhook["spec"]["template"]["metadata"]["labels"]
    assert labels["team"] == "a"
    for key, value in webhook["spec"]["selector"]["matchLabels"].items():
        assert labels[key] == value


def test_spread_constraints_select_the_components_own_pods() -> None:
    spread = {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
    }
    own = {"matchLabels": {"team": "a"}}
    docs = rendering.render(
        {
            "webhook": {"topologySpreadConstraints": [spread, {**spread, "labelSelector": own}]},
            "operator": {"topologySpreadConstraints": [spread]},
        }
    )
    for name, component in (("bulkhead-webhook", "webhook"), ("bulkhead-operator", "operator")):
        spec = rendering.pod_spec(rendering.find(docs, "Deployment", name))
        selector = spec["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == component
    webhook = rendering.pod_spec(rendering.find(docs, "Deployment", "bulkhead-webhook"))
    assert webhook["topologySpreadConstraints"][1]["labelSelector"] == own


def _webhook_affinity(affinity: Mapping[str, Any]) -> dict[str, Any]:
    docs = rendering.render({"webhook": {"affinity": affinity}})
    spec = rendering.pod_spec(rendering.find(docs, "Deployment", "bulkhead-webhook"))
    rendered: dict[str, Any] = spec["affinity"]
    return rendered


def test_affinity_keeps_the_anti_affinity_unless_it_brings_its_own() -> None:
    node = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["sys"]}]}
            ]
        }
    }
    affinity = _webhook_affinity({"nodeAffinity": node})
    assert affinity["nodeAffinity"] == node
    assert "preferredDuringSchedulingIgnoredDuringExecution" in affinity["podAntiAffinity"]
    mine = {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone"}]}
    assert _webhook_affinity({"podAntiAffinity": mine})["podAntiAffinity"] == mine


def test_webhook_selectors_narrow_but_never_lift_the_exemptions() -> None:
    mine = {"key": "tier", "operator": "NotIn", "values": ["legacy"]}
    docs = rendering.render(
        {
            "webhook": {
                "namespaceSelector": {
                    "matchLabels": {"judged": "true"},
                    "matchExpressions": [mine],
                },
                "objectSelector": {"matchLabels": {"judged": "true"}},
            }
        }
    )
    webhook = _webhook(docs)
    expressions = webhook["namespaceSelector"]["matchExpressions"]
    assert expressions[0]["key"] == "kubernetes.io/metadata.name"
    assert NS in expressions[0]["values"]
    assert expressions[1] == mine
    assert webhook["namespaceSelector"]["matchLabels"] == {"judged": "true"}
    assert webhook["objectSelector"] == {"matchLabels": {"judged": "true"}}


def test_no_cpu_limit_by_default(docs: list[dict[str, Any]]) -> None:
    for name in ("bulkhead-webhook", "bulkhead-operator"):
        (container,) = rendering.pod_spec(rendering.find(docs, "Deployment", name))["containers"]
        assert "cpu" not in container["resources"]["limits"]
        assert container["resources"]["limits"]["memory"]
        assert container["resources"]["requests"]["cpu"]


def test_service_account_annotations_land_on_the_right_account() -> None:
    docs = rendering.render({"operator": {"serviceAccount": {"annotations": {"role": "op"}}}})
    assert rendering.find(docs, "ServiceAccount", "bulkhead-operator")["metadata"][
        "annotations"
    ] == {"role": "op"}
    assert (
        "annotations" not in rendering.find(docs, "ServiceAccount", "bulkhead-webhook")["metadata"]
    )


# -- cert-manager mode -----------------------------------------------------------------


def _cert_manager(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return rendering.render(
        {"certManager": {"enabled": True, **values}}, extra=rendering.CERT_MANAGER_API
    )


def test_cert_manager_issues_the_secret_the_webhook_mounts(docs: list[dict[str, Any]]) -> None:
    assert not [d for d in docs if d["apiVersion"].startswith("cert-manager.io/")]
    managed = _cert_manager({})
    certificate = rendering.find(managed, "Certificate", "bulkhead-webhook")["spec"]
    mounted = rendering.pod_spec(rendering.find(managed, "Deployment", "bulkhead-webhook"))[
        "volumes"
    ][0]
    assert certificate["secretName"] == mounted["secret"]["secretName"]
    assert f"bulkhead.{NS}.svc" in certificate["dnsNames"]
    assert certificate["issuerRef"] == {
        "name": "bulkhead-selfsigned",
        "kind": "Issuer",
        "group": "cert-manager.io",
    }
    assert rendering.find(managed, "Issuer", "bulkhead-selfsigned")["spec"] == {"selfSigned": {}}
    annotations = rendering.find(managed, "ValidatingWebhookConfiguration", "bulkhead")["metadata"][
        "annotations"
    ]
    assert annotations == {"cert-manager.io/inject-ca-from": f"{NS}/bulkhead-webhook"}


def test_cert_manager_mode_keeps_the_operator_off_the_certificates() -> None:
    args = _container(_cert_manager({}), "Deployment", "bulkhead-operator")["args"]
    assert "--certificates=external" in args
    assert "--exclusion-window=14d" in args  # policy status is still the operator's
    assert not [
        a for a in args if a.startswith(("--tls-secret", "--ca-secret", "--webhook-configuration"))
    ]


def test_cert_manager_with_your_issuer() -> None:
    managed = _cert_manager({"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}})
    assert not [d for d in managed if d["kind"] == "Issuer"]
    issuer = rendering.find(managed, "Certificate", "bulkhead-webhook")["spec"]["issuerRef"]
    assert issuer == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}


# -- policies and the helm test ----------------------------------------------------


_BASE: Final = "bulkhead-baseline"
_RESTRICTED: Final = "bulkhead-restricted"


@pytest.mark.parametrize(
    ("policies", "installed", "expect", "policy"),
    [
        ({}, {_BASE: "Deny", _RESTRICTED: "Warn"}, "deny", _BASE),
        ({"baseline": "Off", "restricted": "Deny"}, {_RESTRICTED: "Deny"}, "deny", _RESTRICTED),
        ({"baseline": "Warn", "restricted": "Off"}, {_BASE: "Warn"}, "warn", _BASE),
        (
            {"baseline": "Audit", "restricted": "Warn"},
            {_BASE: "Audit", _RESTRICTED: "Warn"},
            "warn",
            _RESTRICTED,
        ),
        ({"baseline": "Off", "restricted": "Off"}, {}, "allow", ""),
    ],
    ids=["default", "restricted only", "baseline warns", "audit and warn", "none"],
)
def test_policies_and_what_helm_test_expects(
    policies: dict[str, str], installed: dict[str, str], expect: str, policy: str
) -> None:
    docs = rendering.render({"policies": policies})
    found = {
        d["metadata"]["name"]: d["spec"]["action"]
        for d in docs
        if d["kind"] == "ClusterContainerPolicy"
    }
    assert found == installed
    for name in installed:
        level = name.removeprefix("bulkhead-")
        profile = rendering.find(docs, "ClusterContainerPolicy", name)["spec"]["profile"]
        assert profile == {"level": level, "version": "latest"}
    test_pod = rendering.find(docs, "Pod", "bulkhead-test")
    env = {e["name"]: e["value"] for e in test_pod["spec"]["containers"][0]["env"]}
    assert env["BULKHEAD_TEST_EXPECT"] == expect
    assert env["BULKHEAD_TEST_POLICY"] == policy
    assert env["BULKHEAD_TEST_CHART_POLICIES"] == ",".join(installed)


def test_helm_test_hook_may_only_create_pods_in_the_test_namespace(
    docs: list[dict[str, Any]],
) -> None:
    hooks = [d for d in docs if d["metadata"].get("annotations", {}).get("helm.sh/hook")]
    assert rendering.kinds(hooks) == [
        ("ServiceAccount", "bulkhead-test"),
        ("ConfigMap", "bulkhead-test"),
        ("Role", "bulkhead-test"),
        ("RoleBinding", "bulkhead-test"),
        ("Pod", "bulkhead-test"),
    ]
    for hook in hooks:
        annotations = hook["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "test"
        assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    role = rendering.find(docs, "Role", "bulkhead-test")
    assert role["metadata"]["namespace"] == "default"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]
    script = rendering.find(docs, "ConfigMap", "bulkhead-test")["data"]["admission_test.py"]
    assert script == (rendering.CHART / "files" / "admission_test.py").read_text(encoding="utf-8")


def test_notes_say_what_to_do_next() -> None:
    result = rendering.helm(
        "install",
        rendering.RELEASE,
        str(rendering.CHART),
        "--namespace",
        NS,
        "--dry-run=client",
        "--set",
        f"image.digest={rendering.DIGEST}",
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    for expected in ("helm test bulkhead", "bulkhead-baseline", "Deny", "kubectl get ccp"):
        assert expected in notes, notes
