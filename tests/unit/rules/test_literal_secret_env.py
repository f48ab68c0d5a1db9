"""Table tests for the ``literalSecretEnv`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import literal_secret_env, podview

ID = "literalSecretEnv"
SECRET_VALUE = "hunter2-do-not-print"

SECRET_NAMES = [
    "PASSWORD",
    "DB_PASSWORD",
    "MYSQL_ROOT_PASSWORD",
    "dbPassword",
    "DBPASSWORD",
    "SMTP_PASSWD",
    "GPG_PASSPHRASE",
    "DB_PASS",
    "MYSQL_PWD",
    "REDIS_PW",
    "BASIC_AUTH",
    "JWT_SECRET",
    "CLIENT_SECRET",
    "clientSecret",
    "AWS_SECRET_ACCESS_KEY",
    "SECRET_KEY_BASE",
    "GITHUB_TOKEN",
    "NPM_AUTH_TOKEN",
    "refreshToken",
    "API_KEY",
    "api-key",
    "apiKey",
    "APIKey",
    "X_APIKEY",
    "STRIPE_PRIVATE_KEY",
    "ENCRYPTION_KEY",
    "ACCESS_KEY",
    "app.secret",
    "GOOGLE_CREDENTIALS",
    "DB_CREDS",
]

HARMLESS_NAMES = [
    "PWD",
    "OLDPWD",
    "PASS_THROUGH",
    "BYPASS_CACHE",
    "TOKENIZER_PATH",
    "TOKENIZER",
    "KEYBOARD_LAYOUT",
    "SORT_KEY",
    "KEY",
    "SECRET_NAME",
    "SECRETS_DIR",
    "PASSWORD_FILE",
    "DB_PASSWORD_FILE",
    "API_KEY_PATH",
    "TOKEN_URL",
    "TOKEN_TTL",
    "PASSWORD_MIN_LENGTH",
    "AWS_ACCESS_KEY_ID",
    "AUTH_USER",
    "AUTH_MODE",
    "AUTH_ENABLED",
    "OAUTH_CLIENT_ID",
    "LOG_LEVEL",
    "SECRETARY_EMAIL",
    "",
    "_",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    assert literal_secret_env.looks_secret(name)


@pytest.mark.parametrize("name", HARMLESS_NAMES, ids=lambda name: name or "empty")
def test_harmless_names(name: str) -> None:
    assert not literal_secret_env.looks_secret(name)


def env(*entries: dict[str, Any], name: str = "app") -> dict[str, Any]:
    return ps.container(name, env=list(entries))


def var(name: str, value: Any = SECRET_VALUE) -> dict[str, Any]:
    return {"name": name, "value": value}


FROM_SECRET = {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}

CASES = [
    pytest.param(ps.pod(env(FROM_SECRET, var("LOG_LEVEL", "debug"))), False, [], id="valueFrom"),
    pytest.param(
        ps.pod(env(var("LOG_LEVEL", "debug"), var("DB_PASSWORD"))),
        False,
        ["spec.containers[0].env[1].value"],
        id="literal-password",
    ),
    pytest.param(ps.pod(env(var("DB_PASSWORD", ""))), False, [], id="empty-value"),
    pytest.param(ps.pod(env(var("REQUIRE_AUTH", "true"))), False, [], id="boolean-value"),
    pytest.param(
        ps.pod(env(var("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secrets/key.json"))),
        False,
        [],
        id="absolute-path-value",
    ),
    pytest.param(
        ps.pod(env(var("DB_PASSWORD", "$(SHARED_PASSWORD)"))), False, [], id="variable-reference"
    ),
    pytest.param(
        ps.pod(env(var("DATABASE_URL", "postgres://app:hunter2@db:5432/app"))),
        False,
        ["spec.containers[0].env[0].value"],
        id="url-with-password-whatever-the-name",
    ),
    pytest.param(
        ps.pod(env(var("DATABASE_URL", "postgres://db:5432/app"), var("CACHE", "redis://:pw@r"))),
        False,
        ["spec.containers[0].env[1].value"],
        id="url-without-and-with-password",
    ),
    *(
        pytest.param(
            ps.pod(env(var("SETTING", value))),
            False,
            ["spec.containers[0].env[0].value"] if found else [],
            id=case_id,
        )
        for case_id, value, found in [
            ("url-leading-whitespace", "  postgres://app:hunter2@db/app", True),
            ("url-after-newline", "\nmysql://root:hunter2@db/app", True),
            ("url-inside-options", "-Ddb=postgres://app:hunter2@db/app -Xmx1g", True),
            ("jdbc-postgresql", "jdbc:postgresql://app:hunter2@db:5432/app", True),
            ("jdbc-mysql-userinfo", "jdbc:mysql://root:hunter2@db/app", True),
            ("jdbc-oracle-thin", "jdbc:oracle:thin:scott/tiger@db:1521:orcl", True),
            ("jdbc-sqlserver-param", "jdbc:sqlserver://db:1433;user=sa;password=hunter2", True),
            ("query-password", "https://api.example.com/v1?user=a&password=hunter2", True),
            ("query-token", "https://hooks.example.com/x?token=abc123", True),
            ("url-password-with-at", "amqp://u:p@ss@broker/", True),
            ("jdbc-without-credentials", "jdbc:postgresql://db:5432/app", False),
            ("jdbc-empty-password-param", "jdbc:sqlserver://db;password=;user=sa", False),
            ("url-user-only", "ssh://git@github.com/acme/app", False),
            ("url-port-not-password", "http://db:5432/app", False),
            ("time-value", "12:30:00", False),
            ("second-url-has-credentials", "http://a/x https://u:pw@b/", True),
        ]
    ),
    pytest.param(
        ps.pod(
            env(var("A", "x")),
            init=[env(var("API_TOKEN"), name="init")],
            ephemeral=[env(var("ADMIN_PASSWORD"), name="debug")],
        ),
        False,
        ["spec.initContainers[0].env[0].value", "spec.ephemeralContainers[0].env[0].value"],
        id="all-three-kinds",
    ),
    pytest.param(
        ps.pod(env(var("TOKEN", 12345))), False, [], id="non-string-value-is-not-literal-text"
    ),
    pytest.param(
        ps.pod(env(var("HOME", "/app"), var("STRIPE_API_KEY"))),
        True,
        ["spec.template.spec.containers[0].env[1].value"],
        id="template",
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), CASES)
def test_check(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, False, spec=spec, template=template)) == expected


def test_message_names_the_variable_never_the_value() -> None:
    spec = ps.pod(
        env(
            var("DB_PASSWORD"),
            var("DATABASE_URL", f"postgres://app:{SECRET_VALUE}@db/app"),
            var("JDBC", f" jdbc:oracle:thin:scott/{SECRET_VALUE}@db:1521:orcl"),
            name="web",
        )
    )
    found = ps.run(ID, False, spec=spec)
    assert len(found) == 3
    for finding in found:
        assert SECRET_VALUE not in finding.message
        assert SECRET_VALUE not in finding.fix
        assert (finding.container, finding.image) == ("web", ps.IMAGE)
        assert "secretKeyRef" in finding.fix
    assert "DB_PASSWORD" in found[0].message
    assert "DATABASE_URL" in found[1].message
    assert "JDBC" in found[2].message


def test_a_huge_hostile_value_is_judged_without_a_finding() -> None:
    hostile = "jdbc:oracle:thin:a/" + "b" * 200_000 + "://" * 50_000 + ";password" * 20_000
    spec = ps.pod(env(var("SETTING", hostile)))
    assert ps.run(ID, False, spec=spec) == []


def test_true_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(True, f"spec.rules.{ID}") is None


@pytest.mark.parametrize("value", ["false", None], ids=["string", "null"])
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems(ID, value) == [f"spec.rules.{ID}"]


@pytest.mark.parametrize(
    ("env_value", "path"),
    [
        pytest.param({"A": "b"}, "spec.containers[0].env", id="not-a-list"),
        pytest.param([var("A", "b"), "B=c"], "spec.containers[0].env[1]", id="entry-not-object"),
    ],
)
def test_broken_env_names_the_field(env_value: object, path: str) -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run(ID, False, spec=ps.pod(ps.container(env=env_value)))
    assert caught.value.path == path
