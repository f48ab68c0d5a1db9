"""``make demo``: a real control plane with the whole of Bulkhead in front of it, left running.

Commands (``python -m devcluster.demo COMMAND [--state-dir DIR]``):

``start``
    Stops an earlier demo first, then starts a supervisor process in the
    background that builds or reuses kube-apiserver and etcd and starts them,
    installs the CRDs (``manifests/crds``) and RBAC (``manifests/rbac``),
    starts ``bulkhead operator`` (certificates into the TLS Secret, caBundle,
    policy status), applies ``manifests/examples/policies`` with kubectl as
    objects, and starts ``bulkhead serve`` in cluster mode (it watches the
    policy objects, and serves the operator's certificate, delivered as files
    the way kubelet mounts a Secret), registered through an ExternalName
    Service as the chart would. While it waits, ``start`` prints each phase,
    the time spent and where the log is. Then, with the real kubectl, it
    shows ``kubectl get ccp`` (every policy READY), applies
    ``manifests/examples/good/*`` and ``bad/*``, stops the webhook to show
    that nothing is admitted while it is down (``failurePolicy: Fail``) and
    that the supervisor brings it back, and applies a new policy and shows
    it enforced within 2 seconds. Exits 1 if anything was not as expected.
``stop``
    Stops the supervisor, which stops everything it started; removes the
    state directory.
``status``
    Says whether a demo is running.
``run``
    The supervisor itself (``start`` launches it; not for people). It
    restarts the operator or the webhook when either exits, after
    ``RESTART_DELAY`` seconds; if etcd or kube-apiserver exits it stops.

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
import functools
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
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, NoReturn, Protocol

import yaml

from devcluster import controlplane, installation, registration, webhookserver

MODULE: Final = "devcluster.demo"
NAMESPACE: Final = "demo"
EXAMPLES: Final = pathlib.Path("manifests") / "examples"
MARKER: Final = ".bulkhead-demo"
SUPERVISOR_PID: Final = "supervisor.pid"
SUPERVISOR_LOG: Final = "supervisor.log"
READY: Final = "ready.json"
ENV_FILE: Final = "env"
FAILED: Final = "failed"
DEFAULT_START_TIMEOUT: Final = 1800.0
STOP_TIMEOUT: Final = 60.0
#: How long the supervisor waits before restarting the operator or the webhook
#: (kubelet's first crash-loop back-off is 10 s); long enough to see fail-closed.
RESTART_DELAY: Final = 5.0
#: The ServiceAccount tokens of the operator and the webhook last this long.
TOKEN_DURATION: Final = "8760h"
#: While a phase is slow (a cold build), say so this often.
PROGRESS_EVERY: Final = 15.0
#: What the supervisor's processes are called in pid files and ``ready.json``.
WEBHOOK: Final = "webhook"
OPERATOR: Final = "operator"
LABELS: Final = {
    "etcd": "etcd",
    "kube-apiserver": "kube-apiserver",
    OPERATOR: "bulkhead operator",
    WEBHOOK: "bulkhead serve",
}


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


def _register(cp: controlplane.ControlPlane, *, port: int) -> None:
    """Register the webhook the way a real install does: through its Service.

    No caBundle: the operator injects its CA, as in a real install.
    """
    cp.apply(
        registration.external_name_service(
            namespace=registration.WEBHOOK_NAMESPACE, name=registration.SERVICE_NAME, port=port
        ),
        registration.webhook_configuration(
            name=registration.CONFIGURATION_NAME,
            webhook_name=registration.WEBHOOK_NAME,
            client_config=registration.service_client_config(
                namespace=registration.WEBHOOK_NAMESPACE,
                name=registration.SERVICE_NAME,
                port=port,
                ca_pem=None,
            ),
        ),
    )


def _phase(text: str, log: pathlib.Path | None = None) -> None:
    say(f"phase: {text}" + (f" (log: {log})" if log is not None else ""))


def _write_pids(state_dir: pathlib.Path, pids: dict[str, int]) -> None:
    """One ``NAME.pid`` per process, so ``kill $(cat webhook.pid)`` works."""
    for name, pid in pids.items():
        staging = state_dir / f".{name}.pid.new"
        staging.write_text(f"{pid}\n", encoding="utf-8")
        os.replace(staging, state_dir / f"{name}.pid")


def _write_env(state_dir: pathlib.Path, *, kubeconfig: pathlib.Path, kubetools: str) -> None:
    """``. env`` puts the demo's kubeconfig, kubectl, helm and bulkhead in a shell."""
    venv_bin = pathlib.Path(sys.executable).parent
    (state_dir / ENV_FILE).write_text(
        f"# . {state_dir / ENV_FILE}: use the Bulkhead demo from this shell\n"
        f"export KUBECONFIG={kubeconfig}\n"
        f"export PATH={venv_bin}:{kubetools}:$PATH\n",
        encoding="utf-8",
    )


class _Supervised:
    """The operator and the webhook: restarted after ``RESTART_DELAY`` when they exit."""

    def __init__(
        self, processes: dict[str, webhookserver.WebhookServer | installation.OperatorProcess]
    ) -> None:
        self._processes = processes
        self._due: dict[str, float] = {}

    @property
    def pids(self) -> dict[str, int]:
        return {name: process.pid or 0 for name, process in self._processes.items()}

    def tend(self) -> bool:
        """Restart what is due; True when a process was restarted (pids changed)."""
        restarted = False
        for name, process in self._processes.items():
            label = LABELS[name]
            if process.running:
                continue
            due = self._due.get(name)
            if due is None:
                self._due[name] = time.monotonic() + RESTART_DELAY
                say(f"{label} exited; restarting it in {RESTART_DELAY:.0f}s")
                continue
            if time.monotonic() < due:
                continue
            try:
                process.start()
            except (webhookserver.WebhookServerError, AssertionError) as err:
                process.stop()
                self._due[name] = time.monotonic() + RESTART_DELAY
                say(f"{label} did not come back ({err}); trying again in {RESTART_DELAY:.0f}s")
                continue
            del self._due[name]
            say(f"{label} restarted (pid {process.pid})")
            restarted = True
        return restarted


def supervise(state_dir: pathlib.Path) -> int:
    """Start everything, report ready, and hold it until SIGTERM; then stop it all."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    logs = state_dir / "logs"
    cp = controlplane.ControlPlane(log_dir=logs)
    policies = controlplane.REPO_ROOT / EXAMPLES / "policies"
    projected: installation.ProjectedSecret | None = None
    operator: installation.OperatorProcess | None = None
    server: webhookserver.WebhookServer | None = None
    code = 0
    try:
        _phase(
            "building or reusing kube-apiserver and etcd, then starting them", logs / "build.log"
        )
        cp.start()
        for name in (registration.WEBHOOK_NAMESPACE, "kube-system", NAMESPACE):
            cp.create_namespace(name)
        _phase("installing the CRDs (manifests/crds) and RBAC (manifests/rbac)")
        installation.install_crds(cp)
        install = installation.Install(
            cp,
            namespace=registration.WEBHOOK_NAMESPACE,
            directory=state_dir,
            webhook_configuration=registration.CONFIGURATION_NAME,
            unique_names=False,
            token_duration=TOKEN_DURATION,
        )
        projected = installation.ProjectedSecret(
            cp, namespace=registration.WEBHOOK_NAMESPACE, directory=state_dir / "tls"
        )
        server = webhookserver.WebhookServer(
            serving=projected.serving(),
            log_path=logs / "bulkhead-serve.log",
            extra_args=(f"--kubeconfig={install.webhook_kubeconfig}",),
        )
        _register(cp, port=server.port)
        _phase("starting bulkhead operator: certificates, caBundle, policy status",
               logs / "operator.log")  # fmt: skip
        operator = installation.OperatorProcess(
            kubeconfig=install.operator_kubeconfig,
            namespace=registration.WEBHOOK_NAMESPACE,
            webhook_configuration=registration.CONFIGURATION_NAME,
            log_path=logs / "operator.log",
            extra_args=("--extra-san=127.0.0.1", f"--probe-endpoint=127.0.0.1:{server.port}"),
        ).start()
        projected.__enter__()
        _phase(f"kubectl apply -f {EXAMPLES / 'policies'}/")
        say(cp.kubectl("apply", "-f", str(policies)).stdout.rstrip())
        _phase("starting bulkhead serve: the operator's certificate, the cluster's policies",
               logs / "bulkhead-serve.log")  # fmt: skip
        server.start()
        _phase("waiting until the apiserver calls the webhook (Service bulkhead.bulkhead-system)")
        registration.wait_until_judged(
            cp, namespace=NAMESPACE, webhook_name=registration.WEBHOOK_NAME, timeout=60
        )
        kubeconfig = state_dir / "kubeconfig"
        kubeconfig.touch(mode=0o600)
        kubeconfig.write_text(json.dumps(_embedded_kubeconfig(cp), indent=2), encoding="utf-8")
        _write_env(state_dir, kubeconfig=kubeconfig, kubetools=str(cp.kubetools_dir))
        supervised = _Supervised({OPERATOR: operator, WEBHOOK: server})

        def publish() -> None:
            pids = {**cp.pids, **supervised.pids}
            _write_pids(state_dir, pids)
            Ready(
                kubeconfig=str(kubeconfig),
                kubectl=str(cp.kubetools_dir / "kubectl"),
                kubetools_dir=str(cp.kubetools_dir),
                apiserver=cp.url,
                webhook=f"https://{registration.SERVICE_NAME}.{registration.WEBHOOK_NAMESPACE}"
                f".svc:{server.port}{registration.WEBHOOK_PATH} (127.0.0.1:{server.port})",
                namespace=NAMESPACE,
                policies=str(policies),
                pids=pids,
                commands={name: _cmdline(pid) for name, pid in pids.items()},
                temp_dirs=[str(path) for path in cp.temp_dirs],
            ).write(state_dir)

        publish()
        _phase("ready")
        while True:
            time.sleep(0.5)
            if not cp.running:
                raise DemoError("kube-apiserver or etcd exited; see logs/")
            if supervised.tend():
                publish()
    except _Stop as stop:
        say(f"stopping on {stop}")
    except Exception as err:  # reported, then everything is stopped
        say(f"failed: {err}")
        (state_dir / FAILED).write_text(f"{err}\n", encoding="utf-8")
        code = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if server is not None:
            server.stop()
        if operator is not None:
            operator.stop()
        if projected is not None:
            projected.__exit__()
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
    (state_dir / MARKER).write_text("made by python -m devcluster.demo\n", encoding="utf-8")
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


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{seconds:.1f}s"


_PHASE_LOG: Final = re.compile(r" \(log: (\S+)\)$")


def _progress(*, elapsed: float, in_phase: float, phase: str) -> str:
    """A reminder that a slow phase is still under way, with its log's last line."""
    found = _PHASE_LOG.search(phase)
    where = ""
    if found is not None:
        last = controlplane.log_tail(pathlib.Path(found.group(1)), lines=1).strip()
        where = f"; {found.group(1)}: {last[:120]}" if last else f"; log: {found.group(1)}"
    return f"  ... [{_duration(elapsed)}] still at it ({_duration(in_phase)} in this phase){where}"


def _wait_ready(
    state_dir: pathlib.Path,
    supervisor: subprocess.Popen[bytes],
    *,
    timeout: float,
    progress_every: float = PROGRESS_EVERY,
) -> Ready:
    """Relay the supervisor's phases with the time spent, and a reminder while one is slow."""
    log = state_dir / SUPERVISOR_LOG
    say(f"  supervisor log: {log}")
    seen = 0
    started = time.monotonic()
    phase, phase_started, noted = "starting the supervisor", started, started
    while time.monotonic() - started < timeout:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        for line in lines[seen:]:
            if line.startswith("phase: ") and line != "phase: ready":
                phase, phase_started = line.removeprefix("phase: "), time.monotonic()
                noted = phase_started
                say(f"  ... [{_duration(phase_started - started)}] {phase}")
        seen = len(lines)
        ready = Ready.read(state_dir)
        if ready is not None:
            say(f"  ... [{_duration(time.monotonic() - started)}] ready")
            return ready
        if supervisor.poll() is not None:
            raise DemoError(
                f"the demo supervisor exited with {supervisor.returncode} before it was ready.\n"
                f"{log}:\n{controlplane.log_tail(log)}\n"
                f"More logs in {state_dir / 'logs'}"
            )
        now = time.monotonic()
        if now - noted >= progress_every:
            say(_progress(elapsed=now - started, in_phase=now - phase_started, phase=phase))
            noted = now
        time.sleep(0.2)
    raise DemoError(f"the demo was not ready after {timeout:.0f}s; see {log}")


class Kubectl(Protocol):
    """The real kubectl against the demo's cluster, in the demo's namespace (never raises)."""

    def __call__(
        self, *args: str, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]: ...


def _kubectl(
    ready: Ready, *args: str, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real kubectl with the demo's kubeconfig, from the repository root."""
    return subprocess.run(
        [ready.kubectl, f"--kubeconfig={ready.kubeconfig}", *args],
        cwd=controlplane.REPO_ROOT,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr).rstrip()


def show(result: subprocess.CompletedProcess[str], *args: str) -> None:
    say(f"$ kubectl {' '.join(args)}")
    say(output(result))


def eventually(probe: Callable[[], object], *, timeout: float, interval: float = 0.2) -> bool:
    """Whether ``probe()`` turns truthy within ``timeout`` seconds."""
    try:
        installation.wait_for(probe, timeout=timeout, interval=interval)
    except AssertionError:
        return False
    return True


def policies_ready(kubectl: Kubectl, kind: str, *args: str) -> bool:
    result = kubectl("get", kind, *args, "-o", "json")
    if result.returncode != 0:
        return False
    items = json.loads(result.stdout)["items"]
    return bool(items) and all(
        (installation.ready_condition(item) or {}).get("status") == "True" for item in items
    )


def show_policies(kubectl: Kubectl) -> list[str]:
    """``kubectl get ccp``, once the operator has marked every example policy READY."""
    say(f"=== The example policies are objects: kubectl apply -f {EXAMPLES / 'policies'}/")
    ok = eventually(lambda: policies_ready(kubectl, "ccp"), timeout=30)
    show(kubectl("get", "ccp"), "get", "ccp")
    say()
    return [] if ok else ["UNEXPECTED: not every ClusterContainerPolicy is READY"]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One example file through ``kubectl apply`` and what came of it."""

    path: pathlib.Path
    expected_admitted: bool
    admitted: bool
    output: str


_DENIAL: Final = re.compile(r"Bulkhead denied (.+?): (\d+ violations?)")
_POLICY_LINE: Final = re.compile(r"^policy (\S+?):?(?: \(|$)", re.MULTILINE)


def apply_examples(kubectl: Kubectl) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for directory, expected in (("good", True), ("bad", False)):
        for path in sorted((controlplane.REPO_ROOT / EXAMPLES / directory).glob("*.yaml")):
            relative = path.relative_to(controlplane.REPO_ROOT)
            result = kubectl("apply", "-f", str(relative))
            admitted = result.returncode == 0
            label = "ADMITTED" if admitted else "DENIED"
            if admitted and "Warning:" in result.stderr:
                label = "ADMITTED with warnings"
            say(f"=== {label}: {relative}")
            show(result, "apply", "-f", str(relative))
            say()
            verdicts.append(Verdict(relative, expected, admitted, output(result)))
    return verdicts


#: What the last two steps submit: a one-off run of the admitted CronJob (dry run).
PROBE: Final = ("create", "job", "report-now", "--from=cronjob/report", "--dry-run=server")
#: The policy the demo applies last, which the admitted CronJob does not meet.
NEW_POLICY_NAME: Final = "no-token-automount"
NEW_POLICY: Final = {
    "apiVersion": "bulkhead.dev/v1alpha1",
    "kind": "ContainerPolicy",
    "metadata": {"name": NEW_POLICY_NAME, "namespace": NAMESPACE},
    "spec": {"action": "Deny", "rules": {"automountServiceAccountToken": False}},
}
ENFORCED_WITHIN: Final = 2.0


def _fail_closed(state_dir: pathlib.Path, ready: Ready) -> list[str]:
    """Stop the webhook as a user would; show the refusal; wait for the supervisor's restart."""
    say("=== Fail-closed: while the webhook is down, nothing it judges is admitted")
    pid_file = state_dir / f"{WEBHOOK}.pid"
    pid = _read_pid(pid_file)
    if pid is None or not _alive(pid) or _cmdline(pid) != ready.commands.get(WEBHOOK):
        return [f"UNEXPECTED: {pid_file} names no running bulkhead serve"]
    say(f"$ kill $(cat {pid_file})    # bulkhead serve, pid {pid}")
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone([pid], 30.0):
        return [f"UNEXPECTED: bulkhead serve (pid {pid}) did not stop on SIGTERM"]
    down = _kubectl(ready, *PROBE)
    show(down, *PROBE)
    problems = []
    if down.returncode == 0 or "failed calling webhook" not in down.stderr:
        problems.append("UNEXPECTED: a request was not refused while the webhook was down")
    say(f"  ... the demo's supervisor restarts bulkhead serve {RESTART_DELAY:.0f}s after it exits")
    stopped = time.monotonic()
    results: list[subprocess.CompletedProcess[str]] = []

    def admitted() -> bool:
        if _read_pid(pid_file) in (None, pid):  # the supervisor has not published it yet
            return False
        results.append(_kubectl(ready, *PROBE))
        return results[-1].returncode == 0

    back = eventually(admitted, timeout=120, interval=0.5)
    if not back:
        problems.append("UNEXPECTED: the webhook did not come back")
        return problems
    new_pid = _read_pid(pid_file)
    say(f"  ... admitted again {_duration(time.monotonic() - stopped)} later "
        f"(bulkhead serve pid {new_pid})")  # fmt: skip
    show(results[-1], *PROBE)
    say()
    return problems


def new_policy(kubectl: Kubectl) -> list[str]:
    """Apply a policy with kubectl and time how soon the webhook enforces it."""
    name = NEW_POLICY_NAME
    say(f"=== A policy applied with kubectl is enforced within {ENFORCED_WITHIN:.0f} s")
    text = yaml.safe_dump(NEW_POLICY, sort_keys=False)
    say(f"$ kubectl apply -f - <<EOF\n{text.rstrip()}\nEOF")
    applied = kubectl("apply", "-f", "-", input_text=text)
    say(output(applied))
    started = time.monotonic()
    results: list[subprocess.CompletedProcess[str]] = []

    def refused() -> bool:
        results.append(kubectl(*PROBE))
        return results[-1].returncode != 0 and name in results[-1].stderr

    enforced = eventually(refused, timeout=30, interval=0.05)
    elapsed = time.monotonic() - started
    show(results[-1], *PROBE)
    say(f"  ... refused {elapsed:.1f}s after kubectl apply returned")
    eventually(lambda: policies_ready(kubectl, "cp"), timeout=30)
    show(kubectl("get", "cp"), "get", "cp")
    say()
    if applied.returncode != 0 or not enforced:
        return [f"UNEXPECTED: the policy {name} was not enforced"]
    if elapsed >= ENFORCED_WITHIN:
        return [f"UNEXPECTED: the policy {name} took {elapsed:.1f}s to be enforced"]
    return []


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


def summarize(kubectl: Kubectl, verdicts: Sequence[Verdict], problems: Sequence[str]) -> bool:
    """Print every verdict and problem and what is stored; whether all went as expected."""
    surprises = [
        f"UNEXPECTED: {v.path} should have been {'admitted' if v.expected_admitted else 'denied'}"
        for v in verdicts
        if v.admitted != v.expected_admitted
    ]
    say("=== Summary")
    width = max(len(str(v.path)) for v in verdicts) if verdicts else 0
    for v in verdicts:
        label = "ADMITTED" if v.admitted else "DENIED"
        say(f"{label:<9} {v.path!s:<{width}}  {_why(v)}".rstrip())
    for line in (*surprises, *problems):
        say(line)
    stored = ("get", "deployments,cronjobs,pods")
    show(kubectl(*stored), *stored)
    say()
    return not surprises and not problems


def _report(
    state_dir: pathlib.Path, ready: Ready, verdicts: Sequence[Verdict], problems: Sequence[str]
) -> bool:
    ok = summarize(functools.partial(_kubectl, ready), verdicts, problems)
    say(f"The demo keeps running in the background (state, pid files and logs: {state_dir}):")
    for name, pid in ready.pids.items():
        say(f"  {LABELS[name]:<17} pid {pid:<7} ({name}.pid, logs/)")
    say(f"  kube-apiserver at {ready.apiserver}; webhook at {ready.webhook}")
    say(f"  the operator or the webhook is restarted {RESTART_DELAY:.0f}s after it exits")
    say("Use it:")
    say(f"  . {state_dir / ENV_FILE}    # KUBECONFIG; kubectl, helm and bulkhead on PATH")
    say("  kubectl get ccp,cp")
    say(f"  kubectl apply -f {EXAMPLES / 'bad' / 'privileged-pod.yaml'}")
    say(f"  bulkhead check -f {EXAMPLES / 'bad'} --policy-file {EXAMPLES / 'policies'}")
    say(f"  kill $(cat {state_dir / WEBHOOK}.pid)    # fail-closed until it is restarted")
    say("Stop it:")
    say("  make demo-stop")
    return ok


def start(state_dir: pathlib.Path, *, timeout: float) -> int:
    say(f"Bulkhead demo: etcd + kube-apiserver {controlplane.KUBERNETES_VERSION}, "
        "the CRDs, bulkhead operator and bulkhead serve")  # fmt: skip
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
    say()
    problems = show_policies(functools.partial(_kubectl, ready))
    verdicts = apply_examples(functools.partial(_kubectl, ready))
    problems += _fail_closed(state_dir, ready)
    ready = Ready.read(state_dir) or ready  # the webhook's pid changed
    problems += new_policy(functools.partial(_kubectl, ready))
    return 0 if _report(state_dir, ready, verdicts, problems) else 1


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
        with contextlib.suppress(FileNotFoundError):
            failure = (state_dir / FAILED).read_text(encoding="utf-8").strip()
            say(f"  it stopped because: {failure} (log: {state_dir / SUPERVISOR_LOG})")
        return 1
    if ready is None:
        say(f"The demo is starting (supervisor pid {pid}); log: {state_dir / SUPERVISOR_LOG}")
        return 0
    say(f"The demo is running: apiserver {ready.apiserver}, webhook {ready.webhook}")
    for name, running in ready.pids.items():
        say(f"  {LABELS[name]:<17} pid {running}")
    say(f"  . {state_dir / ENV_FILE}")
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
