"""A real OCI registry on loopback with TLS, the real cosign, and small generated images.

Owns: building (once, cached) the registry and cosign binaries through
``tools/supplychain/build.sh``; running the registry (CNCF distribution)
on 127.0.0.1 with a throwaway CA, anonymous or with htpasswd Basic
authentication (bcrypt hashes of the users given); pushing generated OCI images to it over
the registry API; and running cosign so that it never reaches past
loopback (``--tlog-upload=false`` to sign; ``--insecure-ignore-tlog`` and an
empty ``--trusted-root`` to verify; ``--registry-cacert`` for the CA).

I/O: subprocesses, files in a temporary directory, HTTPS to the registry.
If the binaries cannot be built or the registry does not start, the
fixture raises: tests fail, never skip.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import gzip
import hashlib
import http.client
import io
import json
import os
import pathlib
import ssl
import subprocess
import tarfile
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import bcrypt

from devcluster import controlplane, pki, registration, webhookserver

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "tools" / "supplychain" / "build.sh"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
_START_TIMEOUT = 60.0


def binaries() -> pathlib.Path:
    """The directory holding ``registry`` and ``cosign`` (built on first use)."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit status {result.returncode}")
    return pathlib.Path(result.stdout.strip())


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def basic_authorization(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Registry:
    """One distribution registry serving HTTPS on 127.0.0.1 (start, stop, start again).

    With ``users`` (name -> password) it requires htpasswd Basic authentication
    for everything; the harness itself pushes as the first user.
    """

    def __init__(
        self,
        *,
        bin_dir: pathlib.Path,
        workdir: pathlib.Path,
        users: Mapping[str, str] | None = None,
    ) -> None:
        self._binary = bin_dir / "registry"
        self._workdir = workdir
        self.port = controlplane.free_port()
        self.host = f"127.0.0.1:{self.port}"
        authority = pki.CertificateAuthority.generate("bulkhead-test-registry-ca")
        self.ca_file = workdir / "ca.crt"
        self.ca_file.write_bytes(authority.cert_pem)
        serving = authority.issue(common_name="127.0.0.1", ip_addresses=["127.0.0.1"], server=True)
        cert, key = serving.write(workdir, "registry")
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}},
            "http": {
                "addr": self.host,
                "tls": {"certificate": str(cert), "key": str(key)},
            },
        }
        self._authorization: str | None = None
        if users:
            htpasswd = workdir / "htpasswd"
            htpasswd.write_text(
                "".join(
                    f"{name}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}\n"
                    for name, password in users.items()
                )
            )
            config["auth"] = {"htpasswd": {"realm": "bulkhead-test", "path": str(htpasswd)}}
            self._authorization = basic_authorization(*next(iter(users.items())))
        self._config = workdir / "config.yml"
        self._config.write_text(json.dumps(config))
        self._context = ssl.create_default_context(cafile=str(self.ca_file))
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / "registry.log"

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self._binary), "serve", str(self._config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the registry exited; see {self._log}")
            with contextlib.suppress(OSError):
                if self.request("GET", "/v2/")[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the registry did not answer within {_START_TIMEOUT}s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)
        self._process = None

    def __enter__(self) -> Registry:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        target = urllib.parse.urlsplit(path)
        if target.netloc:
            path = target.path + (f"?{target.query}" if target.query else "")
        connection = http.client.HTTPSConnection(self.host, timeout=30, context=self._context)
        sent = dict(headers or {})
        if self._authorization is not None:
            sent.setdefault("Authorization", self._authorization)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            connection.close()

    # -- pushing content over the registry API ------------------------------------------

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        status, headers, _ = self.request("POST", f"/v2/{repository}/blobs/uploads/")
        if status != 202:
            raise RuntimeError(f"blob upload refused: HTTP {status}")
        location = headers["location"]
        separator = "&" if "?" in location else "?"
        status, _, answer = self.request(
            "PUT",
            f"{location}{separator}digest={digest}",
            body=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if status != 201:
            raise RuntimeError(f"blob upload failed: HTTP {status} {answer!r}")
        return digest

    def push_manifest(self, repository: str, reference: str, manifest: Mapping[str, Any]) -> str:
        body = json.dumps(manifest, separators=(",", ":")).encode()
        status, _, answer = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            body=body,
            headers={"Content-Type": str(manifest.get("mediaType", OCI_MANIFEST))},
        )
        if status != 201:
            raise RuntimeError(f"manifest push failed: HTTP {status} {answer!r}")
        return digest_of(body)

    def manifest(self, repository: str, reference: str) -> dict[str, Any]:
        status, _, body = self.request(
            "GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": OCI_MANIFEST}
        )
        if status != 200:
            raise RuntimeError(f"no manifest {repository}:{reference}: HTTP {status}")
        value: dict[str, Any] = json.loads(body)
        return value

    def blob(self, repository: str, digest: str) -> bytes:
        status, _, body = self.request("GET", f"/v2/{repository}/blobs/{digest}")
        if status != 200:
            raise RuntimeError(f"no blob {digest}: HTTP {status}")
        return body

    def copy_tag(self, repository: str, source: str, target: str) -> str:
        """Point tag ``target`` at the manifest tagged ``source``; return its digest."""
        return self.push_manifest(repository, target, self.manifest(repository, source))

    def tamper_signature(self, repository: str, digest: str) -> None:
        """Alter the payload cosign signed for ``digest`` (as an attacker with push access)."""
        sig_tag = digest.replace(":", "-") + ".sig"
        manifest = self.manifest(repository, sig_tag)
        layer = manifest["layers"][0]
        payload = json.loads(self.blob(repository, layer["digest"]))
        payload["optional"] = {"note": "altered after signing"}
        altered = json.dumps(payload).encode()
        layer["digest"] = self.push_blob(repository, altered)
        layer["size"] = len(altered)
        self.push_manifest(repository, sig_tag, manifest)

    def push_image(self, repository: str, tag: str, *, content: str) -> str:
        """Push a one-layer image whose only file holds ``content``; return its digest."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            data = content.encode()
            info = tarfile.TarInfo("hello.txt")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
        layer = gzip.compress(raw.getvalue(), mtime=0)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": ["/hello.txt"]},
                "rootfs": {"type": "layers", "diff_ids": [digest_of(raw.getvalue())]},
            }
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": self.push_blob(repository, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER,
                    "digest": self.push_blob(repository, layer),
                    "size": len(layer),
                }
            ],
        }
        return self.push_manifest(repository, tag, manifest)


def vuln_predicate(
    *, finished: datetime.datetime, findings: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """cosign's vuln predicate for a Trivy JSON scan that finished at ``finished``.

    ``findings`` maps vulnerability ids to Trivy severities (``CRITICAL``).
    """
    stamp = finished.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    vulnerabilities = [
        {"VulnerabilityID": ident, "PkgName": "openssl", "Severity": severity}
        for ident, severity in (findings or {}).items()
    ]
    return {
        "invocation": {"uri": "https://ci.example/run/1", "event_id": "1"},
        "scanner": {
            "uri": "pkg:github/aquasecurity/trivy@v0.58.0",
            "version": "0.58.0",
            "db": {"uri": "", "version": "2"},
            "result": {
                "SchemaVersion": 2,
                "Results": [{"Target": "image", "Vulnerabilities": vulnerabilities or None}],
            },
        },
        "metadata": {"scanStartedOn": stamp, "scanFinishedOn": stamp},
    }


class Cosign:
    """The real cosign CLI, kept on loopback: no transparency log, no public trust data."""

    def __init__(self, *, bin_dir: pathlib.Path, workdir: pathlib.Path) -> None:
        self._binary = bin_dir / "cosign"
        self._workdir = workdir
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        # An empty trusted root: cosign trusts no public Sigstore instance and fetches none.
        self.trusted_root = workdir / "trusted_root.json"
        self.trusted_root.write_text(
            json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"})
        )
        self._env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TUF_ROOT": str(home / "tuf"),
            "COSIGN_PASSWORD": "",
            "COSIGN_YES": "true",
            "NO_PROXY": "*",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self._binary), *args],
            env=self._env,
            cwd=self._workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"cosign {' '.join(args)} failed:\n{result.stderr}")
        return result

    def log_in(self, host: str, *, user: str, password: str) -> None:
        """Let cosign push signatures to ``host`` as ``user`` (its Docker config file)."""
        config_file = pathlib.Path(self._env["HOME"]) / ".docker" / "config.json"
        config_file.parent.mkdir(exist_ok=True)
        config = json.loads(config_file.read_text()) if config_file.exists() else {"auths": {}}
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        config["auths"][host] = {"auth": token}
        config_file.write_text(json.dumps(config))

    def generate_key_pair(self, name: str) -> tuple[pathlib.Path, str]:
        """A new key pair; returns the private key path and the public key PEM."""
        prefix = self._workdir / name
        self.run("generate-key-pair", "--output-key-prefix", str(prefix))
        return prefix.with_suffix(".key"), prefix.with_suffix(".pub").read_text()

    def _signing(self, *command: str, image: str, key: pathlib.Path, ca_file: pathlib.Path) -> None:
        """Run a cosign command that signs ``image`` with ``key``, uploading to no log."""
        self.run(
            *command,
            "--key",
            str(key),
            "--tlog-upload=false",
            "--registry-cacert",
            str(ca_file),
            image,
        )

    def sign(self, image: str, *, key: pathlib.Path, ca_file: pathlib.Path) -> None:
        self._signing("sign", image=image, key=key, ca_file=ca_file)

    def attest_vulnerabilities(
        self,
        image: str,
        *,
        key: pathlib.Path,
        ca_file: pathlib.Path,
        predicate: Mapping[str, Any],
    ) -> None:
        """Attest ``predicate`` (cosign's vuln predicate) for ``image`` with ``key``."""
        path = self._workdir / f"predicate-{hashlib.sha256(image.encode()).hexdigest()[:12]}.json"
        path.write_text(json.dumps(predicate))
        self._signing(
            "attest",
            "--type",
            "vuln",
            "--predicate",
            str(path),
            image=image,
            key=key,
            ca_file=ca_file,
        )

    def verify(self, image: str, *, public_key: pathlib.Path, ca_file: pathlib.Path) -> str:
        return self.run(
            "verify",
            "--key",
            str(public_key),
            "--insecure-ignore-tlog=true",
            "--trusted-root",
            str(self.trusted_root),
            "--registry-cacert",
            str(ca_file),
            image,
        ).stdout


def signing_webhook(
    workdir: pathlib.Path,
    *,
    public_pem: str,
    repositories: list[str],
    extra_args: tuple[str, ...],
    also: tuple[dict[str, Any], ...] = (),
) -> webhookserver.WebhookServer:
    """An unstarted ``bulkhead serve`` (one worker) whose policy ``signed-images``
    trusts ``public_pem`` for the images of ``repositories``; ``also`` are more policies."""
    policy = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "signed-images"},
        "spec": {
            "rules": {"imageSignatures": {"keys": [public_pem], "repositories": repositories}}
        },
    }
    policy_files = []
    for number, document in enumerate((policy, *also)):
        policy_file = workdir / f"policy-{number}.json"
        policy_file.write_text(json.dumps(document))
        policy_files.append(policy_file)
    return webhookserver.WebhookServer(
        serving=webhookserver.ServingPKI.write(
            workdir / "pki",
            service=registration.SERVICE_NAME,
            namespace=registration.WEBHOOK_NAMESPACE,
        ),
        policy_files=policy_files,
        log_path=workdir / "bulkhead-serve.log",
        extra_args=("--workers", "1", *extra_args),
    )
