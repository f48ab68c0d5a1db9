"""Table tests for Kubernetes name and label syntax (``webhook.policy.names``)."""

from __future__ import annotations

import pytest

from webhook.policy import names


@pytest.mark.parametrize(
    ("text", "label", "subdomain"),
    [
        pytest.param("kube-system", True, True, id="label"),
        pytest.param("a" * 63, True, True, id="label-63"),
        pytest.param("a" * 64, False, False, id="label-64"),
        pytest.param("webhook.bulkhead.svc", False, True, id="subdomain"),
        pytest.param(".".join(["a" * 63] * 4), False, False, id="subdomain-255"),
        pytest.param("-a", False, False, id="leading-dash"),
        pytest.param("a-", False, False, id="trailing-dash"),
        pytest.param("Upper", False, False, id="upper-case"),
        pytest.param("", False, False, id="empty"),
    ],
)
def test_dns_names(text: str, label: bool, subdomain: bool) -> None:
    assert names.is_dns_label(text) is label
    assert names.is_dns_subdomain(text) is subdomain


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        pytest.param("app.kubernetes.io_Name-1", True, id="mixed"),
        pytest.param("A" * 63, True, id="63"),
        pytest.param("A" * 64, False, id="64"),
        pytest.param("_a", False, id="leading-underscore"),
        pytest.param("a/b", False, id="slash"),
        pytest.param("", False, id="empty"),
    ],
)
def test_label_names(text: str, valid: bool) -> None:
    assert names.is_label_name(text) is valid
