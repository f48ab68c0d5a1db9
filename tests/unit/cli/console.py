"""Running the ``bulkhead`` console script as a user does, and the manifests the CLI tests share."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[3]
EXAMPLES = ROOT / "manifests" / "examples"
POLICIES = EXAMPLES / "policies"
BULKHEAD = pathlib.Path(sys.executable).with_name("bulkhead")

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: root-shell, namespace: team-a}
spec:
  initContainers:
  - name: setup
    image: busybox
    securityContext: {privileged: true}
  containers:
  - name: app
    image: busybox
"""
COMPLIANT_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: fine}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: busybox
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def run(*args: str, stdin: str = "", cwd: pathlib.Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``bulkhead ARGS`` as a user runs it: the installed console script, as a subprocess."""
    return subprocess.run(
        [str(BULKHEAD), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
