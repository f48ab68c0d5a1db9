"""The chart's alerting rules against the metrics a running Bulkhead serves.

A webhook (``bulkhead serve`` with policy files, after a denied and a warned
review), an operator and a background audit run on the real control plane
and are scraped. Then:

* every metric a rule expression reads is one the three serve (a renamed
  metric fails here, not silently in production);
* ``promtool check rules`` accepts the rule file (expressions and templates);
* ``promtool test rules`` on series built from the scrape (their real
  names and label sets): held as scraped, only the expired exclusion of
  the scraped policy and the test's 2-day serving certificate alert;
  driven into trouble (errors, timeouts, slow reviews, a failing reload, a
  denial spike, certificates expiring, TLS failures, an exclusion
  expiring, a failing and stale audit), every alert fires with its labels.

Timestamps in the scrape are moved to promtool's clock (which starts at 0)
so that the time left before each expiry is the real one.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

import prometheus_client
import pytest
import yaml
from prometheus_client import parser

from devcluster import installation
from tests.operator.conftest import OperatorFactory
from tests.server import conftest as server_fixtures
from tests.server import reviews
from webhook.audit import controller, metrics

pytestmark = pytest.mark.cluster

RULES: Final = installation.REPO / "charts" / "bulkhead" / "files" / "monitoring" / "alerts.yaml"
NAMESPACE: Final = "bulkhead-system"
#: promtool evaluates the troubled series at this many minutes.
AT_MINUTES: Final = 420
_NAME: Final = re.compile(r"\bbulkhead_[a-z_]+\b")

Sample = tuple[str, dict[str, str], float]


def _samples(text: str) -> list[Sample]:
    return [
        (s.name, dict(s.labels), float(s.value))
        for family in parser.text_string_to_metric_families(text)
        for s in family.samples
    ]


def _selector(name: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _rules() -> Iterator[dict[str, Any]]:
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        yield from group["rules"]


@pytest.fixture
def scraped(
    install: installation.Install,
    audit: controller.Controller,
    operators: OperatorFactory,
    tmp_path: pathlib.Path,
) -> list[Sample]:
    """Every sample the webhook, the operator and the audit serve, labelled as scraped."""
    name = f"scraped-{install.suffix}"
    install.cp.apply(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": {
                "action": "Audit",
                "rules": {"privileged": False},
                "match": {"namespaces": [install.namespace]},
                "exclude": [{"namespaces": ["legacy"], "expires": "2020-01-01"}],
            },
        }
    )
    try:
        operator = operators("--probe-endpoint=none")
        operator_text = installation.wait_for(
            lambda: (
                text
                if "bulkhead_exclusion_earliest_expiry_timestamp_seconds{"
                in (text := operator.metrics())
                and "bulkhead_certificate_expiry_timestamp_seconds{" in text
                else None
            ),
            timeout=30,
            what="the operator's certificate and exclusion metrics",
        )
    finally:
        install.cp.kubectl("delete", "ccp", name, "--ignore-not-found", "--wait=false")
    material = server_fixtures.make_material(tmp_path / "tls")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "privileged.yaml").write_text(server_fixtures.POLICIES)
    with server_fixtures.server(
        material, tmp_path / "serve", ["--policy-file", str(policies)]
    ) as server:
        for namespace in ("deny-x", "warn-x", "audit-x"):
            server.review(reviews.pod_review(namespace=namespace, privileged=True))
        status, _, body = server.probe("/metrics")
        assert status == 200
    audit_text = prometheus_client.generate_latest(metrics.registry(audit)).decode()
    found: list[Sample] = []
    for text in (body.decode(), operator_text, audit_text):
        found += [(n, {**labels, "namespace": NAMESPACE}, v) for n, labels, v in _samples(text)]
    return found


def _first(scraped: list[Sample], name: str, **match: str) -> dict[str, str]:
    """The labels of the first scraped ``name`` sample whose labels include ``match``."""
    for sample_name, labels, _ in scraped:
        if sample_name == name and match.items() <= labels.items():
            return dict(labels)
    raise AssertionError(f"no {name}{match} was scraped")


def _quiet(scraped: list[Sample], *, now: float, at: float) -> list[dict[str, str]]:
    """Every sample held at its scraped value; Unix times moved to promtool's clock."""
    series: list[dict[str, str]] = []
    for name, labels, value in scraped:
        held = value - now + at if name.endswith("timestamp_seconds") else value
        series.append({"series": _selector(name, labels), "values": f"{held!r}+0x{AT_MINUTES}"})
    return series


def _troubled(scraped: list[Sample]) -> list[dict[str, str]]:
    """The scraped names and labels driven into every kind of trouble."""
    at = AT_MINUTES * 60
    steady = f"0+0x{AT_MINUTES}"
    rising = f"0+1x{AT_MINUTES}"
    series = {
        _selector(
            "bulkhead_admission_reviews_total",
            {**_first(scraped, "bulkhead_admission_reviews_total"), "outcome": "error"},
        ): f"0+60x{AT_MINUTES}",
        _selector(
            "bulkhead_admission_reviews_total",
            _first(scraped, "bulkhead_admission_reviews_total", outcome="denied"),
        ): f"10+0x{AT_MINUTES - 60} 10+30x60",
        _selector(
            "bulkhead_decision_timeouts_total",
            _first(scraped, "bulkhead_decision_timeouts_total"),
        ): rising,
        _selector(
            "bulkhead_policy_reload_failing", _first(scraped, "bulkhead_policy_reload_failing")
        ): f"1+0x{AT_MINUTES}",
        _selector(
            "bulkhead_serving_certificate_expiry_timestamp_seconds",
            _first(scraped, "bulkhead_serving_certificate_expiry_timestamp_seconds"),
        ): f"{at + 6 * 86400}+0x{AT_MINUTES}",
        _selector(
            "bulkhead_certificate_expiry_timestamp_seconds",
            _first(scraped, "bulkhead_certificate_expiry_timestamp_seconds", certificate="serving"),
        ): f"{at + 3 * 86400}+0x{AT_MINUTES}",
        _selector(
            "bulkhead_certificate_expiry_timestamp_seconds",
            _first(scraped, "bulkhead_certificate_expiry_timestamp_seconds", certificate="ca"),
        ): f"{at + 300 * 86400}+0x{AT_MINUTES}",
        _selector(
            "bulkhead_tls_reconcile_failures_total",
            _first(scraped, "bulkhead_tls_reconcile_failures_total"),
        ): rising,
        _selector(
            "bulkhead_exclusion_earliest_expiry_timestamp_seconds",
            _first(scraped, "bulkhead_exclusion_earliest_expiry_timestamp_seconds"),
        ): f"{at + 86400}+0x{AT_MINUTES}",
        _selector(
            "bulkhead_audit_pass_failures_total",
            _first(scraped, "bulkhead_audit_pass_failures_total"),
        ): rising,
        _selector(
            "bulkhead_audit_last_success_timestamp_seconds",
            _first(scraped, "bulkhead_audit_last_success_timestamp_seconds"),
        ): steady,
        _selector(
            "bulkhead_audit_watch_failures_total",
            _first(scraped, "bulkhead_audit_watch_failures_total"),
        ): rising,
    }
    # nearly every review slower than 2.5 s: the buckets above it grow, those below do not
    for name, labels, _ in scraped:
        if name == "bulkhead_admission_review_duration_seconds_bucket":
            slow = labels["le"] == "+Inf" or float(labels["le"]) > 2.5
            series[_selector(name, labels)] = f"5+60x{AT_MINUTES}" if slow else f"5+0x{AT_MINUTES}"
    return [{"series": s, "values": v} for s, v in series.items()]


def _promtool(promtool: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_rules_read_served_metrics_check_and_fire(
    scraped: list[Sample], promtool: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    served = {name for name, _, _ in scraped}
    for rule in _rules():
        for name in _NAME.findall(rule["expr"]):
            assert name in served, f"{rule['alert']} reads {name}, which nothing serves"
    assert {"webhook", "operator", "audit"} == {
        labels["component"] for name, labels, _ in scraped if name == "bulkhead_build_info"
    }

    checked = _promtool(promtool, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # promtool compares annotations too; their templates were checked above
    bare = yaml.safe_load(RULES.read_text())
    for group in bare["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(bare))
    policy = _first(scraped, "bulkhead_exclusion_earliest_expiry_timestamp_seconds")["policy"]
    quiet_at = AT_MINUTES * 60
    expected = {
        "BulkheadWebhookErrors": [{"severity": "critical"}],
        "BulkheadWebhookTimeouts": [{"severity": "critical"}],
        "BulkheadWebhookSlow": [{"severity": "warning"}],
        "BulkheadPolicyReloadFailing": [{"severity": "warning"}],
        "BulkheadDenialSpike": [{"severity": "warning"}],
        "BulkheadServingCertificateExpiresSoon": [{"severity": "critical"}],
        "BulkheadCertificateExpiresSoon": [{"severity": "critical", "certificate": "serving"}],
        "BulkheadTLSReconcileFailing": [{"severity": "warning"}],
        "BulkheadExclusionExpiring": [{"severity": "info", "policy": policy}],
        "BulkheadAuditFailing": [{"severity": "warning"}],
        "BulkheadAuditStale": [{"severity": "warning"}],
        "BulkheadAuditWatchFailing": [{"severity": "warning"}],
    }
    assert set(expected) == {rule["alert"] for rule in _rules()}, "every alert is tested"

    def alerts(firing: Mapping[str, list[dict[str, str]]]) -> list[dict[str, Any]]:
        return [
            {
                "eval_time": f"{AT_MINUTES}m",
                "alertname": name,
                "exp_alerts": [
                    {"exp_labels": {**labels, "namespace": NAMESPACE}}
                    for labels in firing.get(name, [])
                ],
            }
            for name in expected
        ]

    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": "as scraped: the expired exclusion, the 2-day test certificate",
                "interval": "1m",
                "input_series": _quiet(scraped, now=time.time(), at=quiet_at),
                "alert_rule_test": alerts(
                    {
                        "BulkheadExclusionExpiring": expected["BulkheadExclusionExpiring"],
                        "BulkheadServingCertificateExpiresSoon": [{"severity": "critical"}],
                    }
                ),
            },
            {
                "name": "in trouble: every alert",
                "interval": "1m",
                "input_series": _troubled(scraped),
                "alert_rule_test": alerts(expected),
            },
        ],
    }
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    tested = _promtool(promtool, "test", "rules", str(tmp_path / "tests.yaml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout
