"""``make demo``: a real control plane with Bulkhead in front of it, left running.

Commands (``python -m tests.cluster.demo COMMAND [--state-dir DIR]``):

``start``
    Stops an earlier demo first, then starts a supervisor process in the
    background that builds or reuses kube-apiserver and etcd, starts them and
    ``bulkhead serve`` with ``manifests/examples/policies``, and registers the
    webhook through an ExternalName Service, as the chart would. Then applies
    ``manifests/examples/good/*`` and ``manifests/examples/bad/*`` with the
    real kubectl, prints what was admitted and what was denied (kubectl's own
    output), and prints how to use and stop what keeps running. Exits 1 if an
    example was not judged as its directory says.
``stop``
    Stops the supervisor, which stops ``bulkhead serve``, kube-apiserver and
    etcd; removes the state directory.
``status``
    Says whether a demo is running.
``run``
    The supervisor itself (``start`` launches it; not for people).

State, logs and pid files live in ``--state-dir``, else ``$BULKHEAD_DEMO_DIR``,
else ``${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/demo``.

I/O: starts and signals processes (only those whose pid files it wrote and
whose command lines it recognises), writes and removes the state directory,
talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import fcntl
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator, Sequence
from typing import Any, Final, NoReturn

from tests.cluster import controlplane, registration, webhookserver

MODULE: Final = "tests.cluster.demo"
NAMESPACE: Final = "demo"
EXAMPLES: Final = pathlib.Path("manifests") / "examples"
MARKER: Final = ".bulkhead-demo"
SUPERVISOR_PID: Final = "supervisor.pid"
SUPERVISOR_LOG: Final = "supervisor.log"
READY: Final = "ready.json"
FAILED: Final = "failed"
DEFAULT_START_TIMEOUT: Final = 1800.0
STOP_TIMEOUT: Final = 60.0


class DemoError(RuntimeError):
    """The demo could not be started or stopped; the message says what to look at."""


def default_state_dir() -> pathlib.Path:
    given = os.environ.get("BULKHEAD_DEMO_DIR")
    if given:
        return pathlib.Path(given)
    cache = os.environ.get("BULKHEAD_CACHE") or str(pathlib.Path.home() / ".cache" / "bulkhead")
    return pathlib.Path(cache) / "demo"


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- processes we started ---------------------------------------------------


def _cmdline(pid: int) -> list[str]:
    try:
        raw = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _alive(pid: int) -> bool:
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # a zombie (state Z) has exited; it only waits for its parent to reap it
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_supervisor(pid: int, state_dir: pathlib.Path) -> bool:
    """Whether ``pid`` is this state dir's supervisor (not a reused pid)."""
    argv = _cmdline(pid)
    return MODULE in argv and "run" in argv and str(state_dir) in argv


def _read_pid(path: pathlib.Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _wait_gone(pids: Sequence[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return not any(_alive(pid) for pid in pids)


@contextlib.contextmanager
def _locked(state_dir: pathlib.Path) -> Iterator[None]:
    """One start or stop at a time for a state dir."""
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    with (state_dir.parent / f".{state_dir.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# -- the state directory ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Ready:
    """What the supervisor reports once everything runs (``ready.json``)."""

    kubeconfig: str
    kubectl: str
    kubetools_dir: str
    apiserver: str
    webhook: str
    namespace: str
    policies: str
    pids: dict[str, int]
    commands: dict[str, list[str]]
    temp_dirs: list[str]

    @classmethod
    def read(cls, state_dir: pathlib.Path) -> Ready | None:
        try:
            data: dict[str, Any] = json.loads((state_dir / READY).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return cls(**data)

    def write(self, state_dir: pathlib.Path) -> None:
        staging = state_dir / f".{READY}.new"
        staging.write_text(json.dumps(dataclasses.asdict(self), indent=2), encoding="utf-8")
        os.replace(staging, state_dir / READY)


def _remove_state_dir(state_dir: pathlib.Path) -> None:
    """Remove ``state_dir``, but only if a demo made it (it holds the marker)."""
    if not state_dir.exists():
        return
    if not (state_dir / MARKER).exists():
        raise DemoError(f"{state_dir} exists but was not made by the demo; not removing it")
    shutil.rmtree(state_dir)


def _embedded_kubeconfig(cp: controlplane.ControlPlane) -> dict[str, Any]:
    """An admin kubeconfig with the certificates inline, so it stands on its own."""

    def data(path: pathlib.Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    user = "bulkhead-demo-admin"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "bulkhead-demo",
                "cluster": {
                    "server": cp.url,
                    "certificate-authority-data": data(cp.ca_cert_path),
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": data(cp.admin_cert_path),
                    "client-key-data": data(cp.admin_key_path),
                },
            }
        ],
        "contexts": [
            {
                "name": "bulkhead-demo",
                "context": {"cluster": "bulkhead-demo", "user": user, "namespace": NAMESPACE},
            }
        ],
        "current-context": "bulkhead-demo",
    }


# -- the supervisor (``run``) -----------------------------------------------


class _Stop(BaseException):
    """A signal asked the supervisor to stop."""


def _on_signal(signum: int, frame: types.FrameType | None) -> NoReturn:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # one stop at a time; cleanup runs undisturbed
    raise _Stop(signal.Signals(signum).name)


def _register(cp: controlplane.ControlPlane, server: webhookserver.WebhookServer) -> None:
    """Register the webhook the way a real install does: through its Service."""
    cp.apply(
        registration.external_name_service(
            namespace=registration.WEBHOOK_NAMESPACE,
            name=registration.SERVICE_NAME,
            port=server.port,
        )
    )
    cp.apply(
        registration.webhook_configuration(
            name=registration.CONFIGURATION_NAME,
            webhook_name=registration.WEBHOOK_NAME,
            client_config=registration.service_client_config(
                namespace=registration.WEBHOOK_NAMESPACE,
                name=registration.SERVICE_NAME,
                port=server.port,
                ca_pem=server.serving.ca_pem,
            ),
        )
    )
    registration.wait_until_judged(cp, namespace=NAMESPACE, webhook_name=registration.WEBHOOK_NAME)


def supervise(state_dir: pathlib.Path) -> int:
    """Start everything, report ready, and hold it until SIGTERM; then stop it all."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    logs = state_dir / "logs"
    cp = controlplane.ControlPlane(log_dir=logs)
    policies = controlplane.REPO_ROOT / EXAMPLES / "policies"
    server = webhookserver.WebhookServer(
        serving=webhookserver.ServingPKI.write(
            state_dir / "pki",
            service=registration.SERVICE_NAME,
            namespace=registration.WEBHOOK_NAMESPACE,
        ),
        policy_files=[policies],
        log_path=logs / "bulkhead-serve.log",
    )
    code = 0
    try:
        say("phase: building or reusing kube-apiserver and etcd, then starting them")
        cp.start()
        for name in (registration.WEBHOOK_NAMESPACE, "kube-system", NAMESPACE):
            cp.create_namespace(name)
        say(f"phase: starting bulkhead serve on {server.base_url}")
        server.start()
        say("phase: registering the webhook (ExternalName Service bulkhead.bulkhead-system)")
        _register(cp, server)
        kubeconfig = state_dir / "kubeconfig"
        kubeconfig.touch(mode=0o600)
        kubeconfig.write_text(json.dumps(_embedded_kubeconfig(cp), indent=2), encoding="utf-8")
        pids = {**cp.pids, "bulkhead serve": server.pid or 0}
        Ready(
            kubeconfig=str(kubeconfig),
            kubectl=str(cp.kubetools_dir / "kubectl"),
            kubetools_dir=str(cp.kubetools_dir),
            apiserver=cp.url,
            webhook=server.validate_url,
            namespace=NAMESPACE,
            policies=str(policies),
            pids=pids,
            commands={name: _cmdline(pid) for name, pid in pids.items()},
            temp_dirs=[str(path) for path in cp.temp_dirs],
        ).write(state_dir)
        say("phase: ready")
        while True:
            time.sleep(1.0)
            if not cp.running:
                raise DemoError("kube-apiserver or etcd exited; see logs/")
            if not server.running:
                raise DemoError("bulkhead serve exited; see logs/bulkhead-serve.log")
    except _Stop as stop:
        say(f"stopping on {stop}")
    except Exception as err:  # reported, then everything is stopped
        say(f"failed: {err}")
        (state_dir / FAILED).write_text(f"{err}\n", encoding="utf-8")
        code = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        server.stop()
        cp.stop()
        with contextlib.suppress(FileNotFoundError):
            (state_dir / READY).unlink()
        say("stopped")
    return code


# -- start ------------------------------------------------------------------


def _stop_running(state_dir: pathlib.Path, *, quiet: bool, only_pid: int | None = None) -> bool:
    """Stop the demo of ``state_dir`` if one runs; remove the state dir. True if one ran.

    With ``only_pid``, do nothing unless that is the recorded supervisor.
    """
    pid = _read_pid(state_dir / SUPERVISOR_PID)
    if only_pid is not None and pid != only_pid:
        return False
    ready = Ready.read(state_dir)
    ran = pid is not None and _alive(pid) and _is_supervisor(pid, state_dir)
    if ran and pid is not None:
        if not quiet:
            say(f"Stopping the Bulkhead demo (supervisor pid {pid}) ...")
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone([pid], STOP_TIMEOUT):
            say(f"supervisor {pid} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _wait_gone([pid], 10.0)
    if ready is not None and _kill_leftovers(ready):
        ran = True
    _remove_state_dir(state_dir)
    return ran


def _kill_leftovers(ready: Ready) -> int:
    """Children the supervisor could not stop: SIGKILL their groups if still ours.

    Returns how many there were. Also removes the control plane's temp dirs.
    """
    leftovers = [
        (name, pid)
        for name, pid in ready.pids.items()
        if pid and _alive(pid) and _cmdline(pid) == ready.commands.get(name)
    ]
    for name, pid in leftovers:
        say(f"{name} (pid {pid}) outlived its supervisor; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _wait_gone([pid for _, pid in leftovers], 10.0)
    for path in ready.temp_dirs:
        if pathlib.Path(path).name.startswith("bulkhead-cp-"):
            shutil.rmtree(path, ignore_errors=True)
    return len(leftovers)


def _launch_supervisor(state_dir: pathlib.Path) -> subprocess.Popen[bytes]:
    state_dir.mkdir(mode=0o700, parents=True)
    (state_dir / MARKER).write_text("made by python -m tests.cluster.demo\n", encoding="utf-8")
    (state_dir / "logs").mkdir()
    with (state_dir / SUPERVISOR_LOG).open("ab") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", MODULE, "run", "--state-dir", str(state_dir)],
            cwd=controlplane.REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # survives this command, and make's Ctrl-C
        )
    (state_dir / SUPERVISOR_PID).write_text(f"{supervisor.pid}\n", encoding="utf-8")
    return supervisor


def _wait_ready(
    state_dir: pathlib.Path, supervisor: subprocess.Popen[bytes], *, timeout: float
) -> Ready:
    log = state_dir / SUPERVISOR_LOG
    seen = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        for line in lines[seen:]:
            if line.startswith("phase: ") and line != "phase: ready":
                say(f"  ... {line.removeprefix('phase: ')}")
        seen = len(lines)
        ready = Ready.read(state_dir)
        if ready is not None:
            return ready
        if supervisor.poll() is not None:
            raise DemoError(
                f"the demo supervisor exited with {supervisor.returncode} before it was ready.\n"
                f"{log}:\n{controlplane.log_tail(log)}\n"
                f"More logs in {state_dir / 'logs'}"
            )
        time.sleep(0.2)
    raise DemoError(f"the demo was not ready after {timeout:.0f}s; see {log}")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One example file through ``kubectl apply`` and what came of it."""

    path: pathlib.Path
    expected_admitted: bool
    admitted: bool
    output: str


_DENIAL: Final = re.compile(r"Bulkhead denied (.+?): (\d+ violations?)")
_POLICY_LINE: Final = re.compile(r"^policy (\S+?):?(?: \(|$)", re.MULTILINE)


def _apply_examples(ready: Ready) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for directory, expected in (("good", True), ("bad", False)):
        for path in sorted((controlplane.REPO_ROOT / EXAMPLES / directory).glob("*.yaml")):
            relative = path.relative_to(controlplane.REPO_ROOT)
            command = ["kubectl", "apply", "-n", ready.namespace, "-f", str(relative)]
            result = subprocess.run(
                [ready.kubectl, f"--kubeconfig={ready.kubeconfig}", *command[1:]],
                cwd=controlplane.REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            admitted = result.returncode == 0
            label = "ADMITTED" if admitted else "DENIED"
            if admitted and "Warning:" in result.stderr:
                label = "ADMITTED with warnings"
            say(f"=== {label}: {relative}")
            say(f"$ {' '.join(command)}")
            output = (result.stdout + result.stderr).rstrip()
            say(output)
            say()
            verdicts.append(Verdict(relative, expected, admitted, output))
    return verdicts


def _why(verdict: Verdict) -> str:
    """One line on a verdict: the denial's headline and its policies, or the warnings."""
    if verdict.admitted:
        count = verdict.output.count("Warning:")
        return f"{count} warning{'s' if count != 1 else ''}" if count else ""
    headline = _DENIAL.search(verdict.output)
    if headline is None:
        return verdict.output.splitlines()[-1] if verdict.output else ""
    policies = [m.split("/")[-1] for m in _POLICY_LINE.findall(verdict.output)]
    return f"{headline.group(1)}: {headline.group(2)} ({', '.join(policies)})"


def _report(state_dir: pathlib.Path, ready: Ready, verdicts: Sequence[Verdict]) -> bool:
    surprises = [v for v in verdicts if v.admitted != v.expected_admitted]
    stored = subprocess.run(
        [ready.kubectl, f"--kubeconfig={ready.kubeconfig}", "get",
         "deployments,cronjobs,pods", "-n", ready.namespace],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    say("=== Summary")
    width = max(len(str(v.path)) for v in verdicts) if verdicts else 0
    for v in verdicts:
        label = "ADMITTED" if v.admitted else "DENIED"
        say(f"{label:<9} {v.path!s:<{width}}  {_why(v)}".rstrip())
    for v in surprises:
        want = "admitted" if v.expected_admitted else "denied"
        say(f"UNEXPECTED: {v.path} should have been {want}")
    say(f"$ kubectl get deployments,cronjobs,pods -n {ready.namespace}")
    say((stored.stdout + stored.stderr).rstrip())
    say()
    say(f"The demo keeps running in the background (state and logs: {state_dir}):")
    say(f"  kube-apiserver  {ready.apiserver}  (pid {ready.pids.get('kube-apiserver')})")
    say(f"  etcd            (pid {ready.pids.get('etcd')})")
    say(f"  bulkhead serve  {ready.webhook}  (pid {ready.pids.get('bulkhead serve')})")
    say(f"  policies        {ready.policies} (reloaded when they change)")
    say("Use it:")
    say(f"  export KUBECONFIG={ready.kubeconfig}")
    say(f"  export PATH={ready.kubetools_dir}:$PATH   # kubectl 1.35 and helm 4")
    say(f"  kubectl get deployments,cronjobs,pods -n {ready.namespace}")
    say(f"  kubectl apply -n {ready.namespace} -f {EXAMPLES / 'bad' / 'privileged-pod.yaml'}")
    say("Stop it:")
    say("  make demo-stop")
    return not surprises


def start(state_dir: pathlib.Path, *, timeout: float) -> int:
    say(f"Bulkhead demo: etcd + kube-apiserver {controlplane.KUBERNETES_VERSION} + bulkhead serve")
    with _locked(state_dir):
        if _stop_running(state_dir, quiet=True):
            say("  ... stopped the demo that was already running")
        supervisor = _launch_supervisor(state_dir)
    try:
        ready = _wait_ready(state_dir, supervisor, timeout=timeout)
    except KeyboardInterrupt:
        say("interrupted: stopping the demo")
        _stop_running(state_dir, quiet=True, only_pid=supervisor.pid)
        return 130
    except DemoError:
        if supervisor.poll() is None:
            _stop_running(state_dir, quiet=True, only_pid=supervisor.pid)
        raise
    say(f"  ... ready: apiserver {ready.apiserver}, webhook {ready.webhook}")
    say()
    verdicts = _apply_examples(ready)
    return 0 if _report(state_dir, ready, verdicts) else 1


def stop(state_dir: pathlib.Path) -> int:
    with _locked(state_dir):
        existed = state_dir.exists()
        ran = _stop_running(state_dir, quiet=False)
    if ran:
        say(f"Stopped the Bulkhead demo and removed {state_dir}")
    elif existed:
        say(f"No demo was running; removed {state_dir}")
    else:
        say(f"No demo is running ({state_dir} does not exist)")
    return 0


def status(state_dir: pathlib.Path) -> int:
    pid = _read_pid(state_dir / SUPERVISOR_PID)
    ready = Ready.read(state_dir)
    if pid is None or not _alive(pid) or not _is_supervisor(pid, state_dir):
        say(f"No demo is running ({state_dir})")
        return 1
    if ready is None:
        say(f"The demo is starting (supervisor pid {pid}); log: {state_dir / SUPERVISOR_LOG}")
        return 0
    say(f"The demo is running: apiserver {ready.apiserver}, webhook {ready.webhook}")
    say(f"  export KUBECONFIG={ready.kubeconfig}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status", "run"))
    parser.add_argument(
        "--state-dir",
        type=pathlib.Path,
        default=None,
        help="where pid files, logs and the kubeconfig live "
        f"(default: $BULKHEAD_DEMO_DIR, else {default_state_dir()})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_START_TIMEOUT,
        help="seconds to wait for start, a first build included (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    state_dir: pathlib.Path = (args.state_dir or default_state_dir()).resolve()
    try:
        if args.command == "start":
            return start(state_dir, timeout=args.timeout)
        if args.command == "stop":
            return stop(state_dir)
        if args.command == "status":
            return status(state_dir)
        return supervise(state_dir)
    except DemoError as err:
        sys.stderr.write(f"demo: {err}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
