"""The ``literalSecretEnv`` rule: secrets come from Secrets, not pod specs. Pure, no I/O.

Policy value (``spec.rules.literalSecretEnv``):

    literalSecretEnv: false   # enforce: no secret written literally into env
    literalSecretEnv: true    # not checked

Fields read: ``env[i].name`` and ``env[i].value`` of containers of all three
kinds. An entry is a finding at ``...env[i].value`` when it sets a non-empty
literal ``value`` (not ``valueFrom``) and either

- its name looks like a secret, or
- its value carries credentials in a URL, whatever the name
  (``DATABASE_URL``, ``JAVA_OPTS``), anywhere in the value:

  * ``scheme://user:password@`` with any scheme, including JDBC's
    two-part ones (``jdbc:postgresql://app:pw@db/app``) and an empty user
    (``redis://:pw@cache``), after leading whitespace or other text;
  * JDBC's Oracle form ``jdbc:oracle:thin:user/password@host``;
  * a password or token as a URL parameter: ``?password=``, ``&pwd=``,
    ``;password=`` (JDBC SQL Server), likewise ``passwd``, ``pass``,
    ``secret``, ``token``, ``access_token``, ``apikey``, ``api_key``,
    with a non-empty value.

  The value is scanned in time linear in its length (every pattern is
  anchored at a literal and stops at a delimiter), whatever its size.

Messages name the variable, never its value.

How a name looks like a secret: it is split into words on ``_``, ``-``,
``.`` and camelCase (``dbPassword`` -> db, password; ``APIKey`` -> api, key)
and matched case-insensitively:

- any word is, or ends in, password, passwd, passphrase, secret, token,
  credential(s), apikey, accesskey, secretkey or privatekey
  (``DB_PASSWORD``, ``GITHUB_TOKEN``, ``APIKEY``, ``AWS_SECRET_ACCESS_KEY``);
- ``key`` after api, access, private, secret, client, encryption, signing,
  master, session, hmac, jwt, ssh, account, shared or license (``API_KEY``,
  ``STRIPE_PRIVATE_KEY``), but not a lone or other key (``SORT_KEY``,
  ``KEYBOARD_LAYOUT``);
- pass, pwd, pw or auth as the last of several words (``DB_PASS``,
  ``MYSQL_PWD``, ``BASIC_AUTH``), so ``PWD`` (the working directory) and
  ``PASS_THROUGH`` are not secrets.

To avoid false positives, a name is not a secret when its last word says it
points at or describes one rather than holding it: file, path, dir, name,
url, endpoint, id, user, type, mode, ttl, length, ... (``PASSWORD_FILE``,
``SECRET_NAME``, ``TOKEN_URL``, ``AWS_ACCESS_KEY_ID``, ``TOKENIZER_PATH``).
Nor is a value that is a boolean word (``true``, ``off``, ...), an absolute
file path (``GOOGLE_APPLICATION_CREDENTIALS=/var/run/key.json``) or a
reference to another variable (``$(DB_PASSWORD)``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "literalSecretEnv"

_CACHE_SIZE: Final = 4096
_WORDS: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
#: What follows ``://`` when the URL carries a password: ``user:password@`` (user may be empty).
_USERINFO_WITH_PASSWORD: Final = re.compile(r"[^/@:\s]*:[^/@\s]+@")
#: JDBC Oracle thin/oci URLs: ``jdbc:oracle:thin:user/password@``.
_ORACLE_CREDENTIALS: Final = re.compile(r"jdbc:oracle:[a-z0-9]+:[^/@:\s]+/[^/@\s]+@", re.IGNORECASE)
#: A credential passed as a URL parameter (query string or JDBC ``;key=value``).
_CREDENTIAL_PARAMETER: Final = re.compile(
    r"[?&;](?:password|passwd|pass|pwd|secret|token|access_token|apikey|api_key)=[^&;#\s]",
    re.IGNORECASE,
)
_REFERENCE: Final = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_.-]*\)")
_SECRET_ENDINGS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "creds",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
)
_KEY_QUALIFIERS: Final = frozenset(
    {
        "api",
        "access",
        "private",
        "secret",
        "client",
        "encryption",
        "signing",
        "master",
        "session",
        "hmac",
        "jwt",
        "ssh",
        "account",
        "shared",
        "license",
    }
)
_LAST_WORD_SECRETS: Final = frozenset({"pass", "pwd", "pw", "auth"})
_DESCRIPTIVE: Final = frozenset(
    {
        "file",
        "files",
        "path",
        "paths",
        "dir",
        "directory",
        "folder",
        "location",
        "mount",
        "name",
        "names",
        "url",
        "urls",
        "uri",
        "endpoint",
        "host",
        "hostname",
        "port",
        "id",
        "user",
        "username",
        "login",
        "type",
        "kind",
        "mode",
        "format",
        "version",
        "ttl",
        "expiry",
        "expiration",
        "expires",
        "lifetime",
        "timeout",
        "interval",
        "period",
        "duration",
        "seconds",
        "length",
        "len",
        "size",
        "min",
        "max",
        "count",
        "limit",
        "retries",
        "enabled",
        "disabled",
        "enable",
        "required",
        "ref",
        "header",
        "field",
        "prefix",
        "suffix",
        "policy",
        "algorithm",
        "alg",
        "issuer",
        "audience",
        "scope",
        "scopes",
        "provider",
        "method",
        "strategy",
        "backend",
        "store",
        "source",
    }
)
_HARMLESS_VALUES: Final = frozenset(
    {"true", "false", "yes", "no", "on", "off", "enabled", "disabled"}
)
_FIX: Final = (
    "Store the value in a Secret and reference it with env[].valueFrom.secretKeyRef "
    "(or envFrom.secretRef) instead of a literal value."
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    words = [word.lower() for word in _WORDS.findall(name)]
    if not words:
        return False
    last = words[-1]
    if last in _DESCRIPTIVE:
        return False
    if len(words) > 1 and last in _LAST_WORD_SECRETS:
        return True
    previous = ""
    for word in words:
        if word.endswith(_SECRET_ENDINGS):
            return True
        if word == "key" and previous in _KEY_QUALIFIERS:
            return True
        previous = word
    return False


def _harmless(value: str) -> bool:
    return (
        value.lower() in _HARMLESS_VALUES
        or value.startswith("/")
        or _REFERENCE.fullmatch(value) is not None
    )


def url_credentials(value: str) -> bool:
    """Whether ``value`` carries credentials in a URL anywhere in it (linear time)."""
    start = value.find("://")
    while start >= 0:
        if _USERINFO_WITH_PASSWORD.match(value, start + 3):
            return True
        start = value.find("://", start + 3)
    lowered = value.lower()
    if "jdbc:oracle:" in lowered and _ORACLE_CREDENTIALS.search(value):
        return True
    return ("://" in value or "jdbc:" in lowered) and _CREDENTIAL_PARAMETER.search(
        value
    ) is not None


def _reason(name: Any, value: str) -> str | None:
    """Why a literal value is a secret (never quoting it), or ``None`` when it is not one."""
    if url_credentials(value):
        return "to a URL with credentials in it"
    if type(name) is str and looks_secret(name) and not _harmless(value):
        return "to a literal value, and its name says it holds a secret"
    return None


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for secrets written literally into environment variables."""
    out: list[findings.Finding] = []
    for container in pod.containers:
        env = container.spec.get("env")
        if not env:
            continue
        if type(env) is not list:
            env = podview.objects(env, container, "env")
        for index, variable in enumerate(env):
            if type(variable) is not dict and not isinstance(variable, Mapping):
                raise podview.PodSpecError(container.field(f"env[{index}]"), "must be an object")
            value = variable.get("value")
            if not value or type(value) is not str:
                continue
            name = variable.get("name")
            if (
                "://" not in value
                and ":" not in value
                and (type(name) is not str or not looks_secret(name))
            ):
                continue
            reason = _reason(name, value)
            if reason is None:
                continue
            shown = name if isinstance(name, str) and name else "(unnamed)"
            out.append(
                container.finding(
                    ID,
                    f"env[{index}]",
                    "value",
                    message=f"{container.label} sets environment variable {shown} {reason}",
                    fix=_FIX,
                )
            )
    return out


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="No secrets written literally into environment variables",
    fields=(
        "spec.{initContainers,containers,ephemeralContainers}[*].env[*].name",
        "spec.{initContainers,containers,ephemeralContainers}[*].env[*].value",
    ),
    fix=_FIX,
    severity="high",
    schema=openapi.switch(
        on=False,
        meaning="no env entry writes a secret-looking value literally (use valueFrom)",
    ),
    parse=config.switch(on=False, enforces="no environment variable may hold a literal secret"),
    check=check,
)
