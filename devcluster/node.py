"""A real single-node Kubernetes cluster in a network namespace of its own, for tests.

Owns: the lifecycle of one test node: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, containerd (Debian's, with runc and
the CNI bridge plugin), kubelet, kube-proxy and CoreDNS (cluster DNS), their
PKI, configuration, logs and readiness; importing the Bulkhead image (OCI
archive, by digest) and the sandbox image into containerd; running the real
``kubectl`` and ``helm`` against it; and putting the host back as it was.

Isolation: every server listens inside the network namespace ``bhn-<id>``
(nothing on the host's interfaces); the node address 10.245.0.1 is on the
namespace's loopback. State lives in one temporary directory; Pods run under
the cgroup root ``/bulkhead-node-<id>``; the CNI bridge, its IPAM state and
the Pods' own network namespaces are this run's. Host-wide kernel settings
the kubelet changes (``vm.overcommit_memory``, ``kernel.panic``,
``kernel.panic_on_oops``) are saved and restored.

Settings the test machines need (cgroup v1 with an empty cgroup2, root without
``CAP_SYS_RESOURCE``, PID 1 not systemd): kubelet ``failCgroupV1: false``,
``cgroupDriver: cgroupfs``, ``oomScoreAdj: 0``; containerd
``restrict_oom_score_adj`` and ``tolerate_missing_hugetlb_controller``;
kube-proxy leaves the conntrack sysctls alone (read-only outside the initial
network namespace); the apiserver dials Pod IPs for webhooks
(``--enable-aggregator-routing``) and the node by its InternalIP.

I/O: runs the project's build scripts (cached outside the repository),
``ip``, ``nsenter``, ``ctr``, ``mount``/``umount`` and ``sysctl``, starts and
stops processes (only its own, by process group), writes under its temporary
directory and the cgroup root above. Needs root.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from devcluster import controlplane, installation, pki

REPO: Final = controlplane.REPO_ROOT
TOOLS: Final = REPO / "tools"
NODE_IP: Final = "10.245.0.1"
POD_SUBNET: Final = "10.244.0.0/24"
POD_GATEWAY: Final = "10.244.0.1"
SERVICE_IP: Final = "10.0.0.1"
NODE_NAME: Final = "bulkhead-node"
API_PORT: Final = 6443
IMAGE_REPOSITORY: Final = "localhost/bulkhead"
CHART: Final = REPO / "charts" / "bulkhead"
#: The Helm release name and namespace, as docs/install.md installs it.
RELEASE: Final = "bulkhead"
RELEASE_NAMESPACE: Final = "bulkhead-system"
RESTRICTED_NAMESPACE: Final = "pod-security.kubernetes.io/enforce=restricted"
PAUSE_IMAGE: Final = "localhost/pause:bulkhead"
#: Host-wide kernel settings the kubelet sets on start (restored on stop).
KUBELET_SYSCTLS: Final = ("vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops")


class NodeError(RuntimeError):
    """The node could not be built, started, used or cleaned up."""


def _run(argv: Sequence[str], *, timeout: float = 60.0, check: bool = True) -> str:
    result = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise NodeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def archive_digest(archive: pathlib.Path) -> str:
    """The manifest digest recorded in an OCI archive's index.json."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("index.json")
        if member is None:
            raise NodeError(f"{archive} has no index.json")
        index: dict[str, Any] = json.load(member)
    digest: str = index["manifests"][0]["digest"]
    return digest


class Node:
    """One test node: :meth:`start`, then :meth:`stop` (also after a failed start).

    Attributes valid after :meth:`start`: ``netns``, ``workdir``,
    ``kubeconfig``, ``image_digest`` (the Bulkhead image as containerd knows
    it), ``kubetools_dir``, ``timings`` (seconds per phase).
    """

    def __init__(
        self, *, log_dir: pathlib.Path, build_timeout: float = 3600.0, ready_timeout: float = 120.0
    ) -> None:
        self.log_dir = log_dir
        self._build_timeout = build_timeout
        self._ready_timeout = ready_timeout
        self.run_id = secrets.token_hex(3)
        self.netns = f"bhn-{self.run_id}"
        self.bridge = f"bhn{self.run_id}"
        self.cgroup_root = f"/bulkhead-node-{self.run_id}"
        self.workdir = pathlib.Path()
        self.kubeconfig = pathlib.Path()
        self.image_archive = pathlib.Path()
        self.image_digest = ""
        self.kubetools_dir = pathlib.Path()
        self.timings: dict[str, float] = {}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._sysctls: dict[str, str] = {}
        self._netns_before: set[str] = set()
        self._netns_made = False
        self._netns_mount_made = False

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Build or reuse everything, start the node and wait until it is Ready."""
        if os.geteuid() != 0:
            raise NodeError("the test node needs root (network namespaces, containerd, mounts)")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        build_log = self.log_dir / "build.log"

        def script(phase: str, path: pathlib.Path, *, prints: bool = True) -> list[str]:
            started = time.monotonic()
            lines = controlplane.run_script(
                path, log=build_log, timeout=self._build_timeout, prints=prints
            )
            self.timings[phase] = round(time.monotonic() - started, 1)
            return lines

        script("host packages", TOOLS / "node" / "packages.sh", prints=False)
        cp_bin = pathlib.Path(
            script("control plane build", TOOLS / "controlplane" / "build.sh")[-1]
        )
        node_bin, dns_bin = map(
            pathlib.Path, script("node build", TOOLS / "node" / "build.sh")[-2:]
        )
        self.kubetools_dir = pathlib.Path(script("kubetools", TOOLS / "kubetools.sh")[-1])
        self.image_archive = pathlib.Path(script("image", TOOLS / "image" / "build.sh")[-1])
        pause_archive = pathlib.Path(script("pause image", TOOLS / "node" / "pause.sh")[-1])

        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="bulkhead-node-", dir="/var/tmp"))
        started = time.monotonic()
        self._bring_up(cp_bin, node_bin, dns_bin, pause_archive)
        self.timings["node up"] = round(time.monotonic() - started, 1)

    def _bring_up(
        self,
        cp_bin: pathlib.Path,
        node_bin: pathlib.Path,
        dns_bin: pathlib.Path,
        pause_archive: pathlib.Path,
    ) -> None:
        pki_dir = self.workdir / "pki"
        self._write_pki(pki_dir)
        self._make_netns()
        for name in KUBELET_SYSCTLS:
            self._sysctls[name] = _run(["sysctl", "-n", name]).strip()
        self._start_etcd(cp_bin)
        self._start_apiserver(cp_bin, pki_dir)
        self._start_controllers(node_bin, pki_dir)
        self._start_containerd()
        self._import_images(pause_archive)
        self._start_coredns(dns_bin)
        self._start_kubelet(node_bin, pki_dir)
        self._start_kube_proxy(node_bin)
        installation.wait_for(
            self._node_ready, timeout=self._ready_timeout, interval=0.5, what="node Ready"
        )

    def stop(self) -> None:
        """Stop everything this node started and put the host back as it was."""
        problems: list[str] = []
        for name in ("kube-proxy", "kubelet", "coredns"):
            self._stop(name)
        if "containerd" in self._processes:
            with contextlib.suppress(NodeError, subprocess.TimeoutExpired):
                self._remove_containers()
        for name in ("containerd", "kube-scheduler", "kube-controller-manager"):
            self._stop(name)
        for name in ("kube-apiserver", "etcd"):
            self._stop(name)
        if self.workdir != pathlib.Path():
            self._unmount_under(self.workdir, problems)
        self._remove_pod_netns(problems)
        if self._netns_made:
            _run(["ip", "netns", "delete", self.netns], check=False)
            self._netns_made = False
        if self._netns_mount_made and not self._netns_names():
            _run(["umount", "/run/netns"], check=False)
            self._netns_mount_made = False
        self._remove_cgroups(problems)
        for name, value in self._sysctls.items():
            _run(["sysctl", "-qw", f"{name}={value}"], check=False)
        self._sysctls.clear()
        if self.workdir != pathlib.Path():
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = pathlib.Path()
        if problems:
            raise NodeError("node teardown left things behind: " + "; ".join(problems))

    # -- pieces ------------------------------------------------------------

    def _write_pki(self, pki_dir: pathlib.Path) -> None:
        pki_dir.mkdir(mode=0o700, parents=True)
        ca = pki.CertificateAuthority.generate("bulkhead-test-node-ca")
        ca.credential.write(pki_dir, "ca")
        ca.issue(
            common_name="kube-apiserver",
            dns_names=(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
            ip_addresses=("127.0.0.1", NODE_IP, SERVICE_IP),
            server=True,
        ).write(pki_dir, "apiserver")
        ca.issue(
            common_name=f"system:node:{NODE_NAME}", organizations=("system:nodes",),
            dns_names=(NODE_NAME,), ip_addresses=(NODE_IP,), server=True, client=True,
        ).write(pki_dir, "kubelet")  # fmt: skip
        users = {
            "admin": ("bulkhead-test-admin", ("system:masters",)),
            "controller-manager": ("system:kube-controller-manager", ()),
            "scheduler": ("system:kube-scheduler", ()),
            "kube-proxy": ("system:kube-proxy", ()),
            "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", ("system:masters",)),
            "coredns": ("bulkhead-test-coredns", ("system:masters",)),
        }
        for name, (user, groups) in users.items():
            cert, key = ca.issue(common_name=user, organizations=groups, client=True).write(
                pki_dir, name
            )
            if name != "apiserver-kubelet-client":
                self._write_kubeconfig(name, cert=cert, key=key, ca=pki_dir / "ca.crt")
        self._write_kubeconfig(
            "kubelet", cert=pki_dir / "kubelet.crt", key=pki_dir / "kubelet.key",
            ca=pki_dir / "ca.crt",
        )  # fmt: skip
        pki.service_account_key_pair().write(pki_dir, "service-account")
        self.kubeconfig = self.workdir / "admin.kubeconfig"

    def _write_kubeconfig(
        self, name: str, *, cert: pathlib.Path, key: pathlib.Path, ca: pathlib.Path
    ) -> None:
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "node",
                    "cluster": {
                        "server": f"https://{NODE_IP}:{API_PORT}",
                        "certificate-authority": str(ca),
                    },
                }
            ],
            "users": [
                {"name": name, "user": {"client-certificate": str(cert), "client-key": str(key)}}
            ],
            "contexts": [{"name": "node", "context": {"cluster": "node", "user": name}}],
            "current-context": "node",
        }
        path = self.workdir / f"{name}.kubeconfig"
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")

    def _make_netns(self) -> None:
        self._netns_before = set(self._netns_names())
        # `ip netns add` mounts /run/netns on itself the first time; undone on stop.
        self._netns_mount_made = not os.path.ismount("/run/netns")
        _run(["ip", "netns", "add", self.netns])
        self._netns_made = True
        _run(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        # The node's address on lo: these kernels have no "dummy" link type.
        _run(["ip", "-n", self.netns, "addr", "add", f"{NODE_IP}/32", "dev", "lo"])
        self.in_netns(["sysctl", "-qw", "net.ipv4.ip_forward=1"])

    @staticmethod
    def _netns_names() -> list[str]:
        with contextlib.suppress(FileNotFoundError):
            return sorted(os.listdir("/run/netns"))
        return []

    def in_netns(self, argv: Sequence[str], *, timeout: float = 60.0, check: bool = True) -> str:
        """Run a command inside the node's network namespace; its stdout."""
        return _run(self.netns_argv(argv), timeout=timeout, check=check)

    def netns_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` wrapped to run inside the node's network namespace.

        ``nsenter --net`` rather than ``ip netns exec``: the latter remounts
        /sys, which would hide the cgroup hierarchy from the kubelet.
        """
        return ["nsenter", f"--net=/run/netns/{self.netns}", *argv]

    def _spawn(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        proc = controlplane.spawn(self.netns_argv(argv), log_path=self.log_dir / f"{name}.log")
        self._processes[name] = proc
        return proc

    def _stop(self, name: str) -> None:
        proc = self._processes.pop(name, None)
        if proc is not None:
            controlplane.stop_group(proc, grace=15.0)

    def _wait_up(self, name: str, probe: Callable[[], bool], *, timeout: float = 90.0) -> None:
        proc = self._processes[name]
        log = self.log_dir / f"{name}.log"

        def alive_and_ready() -> bool:
            if proc.poll() is not None:
                raise NodeError(
                    f"{name} exited with {proc.returncode}; log tail ({log}):\n"
                    f"{controlplane.log_tail(log)}"
                )
            return probe()

        installation.wait_for(
            alive_and_ready, timeout=timeout, interval=0.25, what=f"{name} ({log})"
        )

    def _probe(self, argv: Sequence[str]) -> bool:
        result = subprocess.run(self.netns_argv(argv), capture_output=True, timeout=10, check=False)
        return result.returncode == 0

    def _start_etcd(self, cp_bin: pathlib.Path) -> None:
        data = self.workdir / "etcd"
        url = "http://127.0.0.1:2379"
        self._spawn(
            "etcd",
            [
                str(cp_bin / "etcd"), "--name=node", f"--data-dir={data}",
                f"--listen-client-urls={url}", f"--advertise-client-urls={url}",
                "--listen-peer-urls=http://127.0.0.1:2380",
                "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                "--initial-cluster=node=http://127.0.0.1:2380",
                "--unsafe-no-fsync", "--log-level=warn",
            ],
        )  # fmt: skip
        self._wait_up("etcd", lambda: self._probe(["curl", "-sf", f"{url}/health"]))

    def _start_apiserver(self, cp_bin: pathlib.Path, pki_dir: pathlib.Path) -> None:
        self._spawn(
            "kube-apiserver",
            [
                str(cp_bin / "kube-apiserver"),
                f"--advertise-address={NODE_IP}", "--bind-address=0.0.0.0",
                f"--secure-port={API_PORT}",
                f"--cert-dir={self.workdir / 'apiserver-certs'}",
                f"--tls-cert-file={pki_dir / 'apiserver.crt'}",
                f"--tls-private-key-file={pki_dir / 'apiserver.key'}",
                f"--client-ca-file={pki_dir / 'ca.crt'}",
                "--etcd-servers=http://127.0.0.1:2379",
                f"--service-cluster-ip-range={controlplane.SERVICE_CLUSTER_IP_RANGE}",
                f"--service-account-issuer={controlplane.SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={pki_dir / 'service-account.crt'}",
                f"--service-account-signing-key-file={pki_dir / 'service-account.key'}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--allow-privileged=true",
                f"--kubelet-client-certificate={pki_dir / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki_dir / 'apiserver-kubelet-client.key'}",
                f"--kubelet-certificate-authority={pki_dir / 'ca.crt'}",
                # Webhook Services resolve to their endpoints (Pod IPs).
                "--enable-aggregator-routing=true",
                # logs/exec dial the node's address: there is no DNS for its name.
                "--kubelet-preferred-address-types=InternalIP",
                "--profiling=false",
            ],
        )  # fmt: skip
        self._wait_up(
            "kube-apiserver",
            lambda: self._probe(
                [
                    "curl", "-sf", "--cacert", str(pki_dir / "ca.crt"),
                    "--cert", str(pki_dir / "admin.crt"), "--key", str(pki_dir / "admin.key"),
                    f"https://{NODE_IP}:{API_PORT}/readyz",
                ]
            ),
        )  # fmt: skip

    def _start_controllers(self, node_bin: pathlib.Path, pki_dir: pathlib.Path) -> None:
        cm = self.workdir / "controller-manager.kubeconfig"
        self._spawn(
            "kube-controller-manager",
            [
                str(node_bin / "kube-controller-manager"),
                f"--kubeconfig={cm}", f"--authentication-kubeconfig={cm}",
                f"--authorization-kubeconfig={cm}",
                f"--service-account-private-key-file={pki_dir / 'service-account.key'}",
                f"--root-ca-file={pki_dir / 'ca.crt'}", "--use-service-account-credentials",
                f"--cluster-signing-cert-file={pki_dir / 'ca.crt'}",
                f"--cluster-signing-key-file={pki_dir / 'ca.key'}",
                "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=10257",
            ],
        )  # fmt: skip
        sched = self.workdir / "scheduler.kubeconfig"
        self._spawn(
            "kube-scheduler",
            [
                str(node_bin / "kube-scheduler"),
                f"--kubeconfig={sched}", f"--authentication-kubeconfig={sched}",
                f"--authorization-kubeconfig={sched}",
                "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=10259",
            ],
        )  # fmt: skip

    @property
    def containerd_socket(self) -> pathlib.Path:
        return self.workdir / "containerd" / "containerd.sock"

    def ctr(self, *args: str, timeout: float = 120.0) -> str:
        """Debian's ``ctr`` against this node's containerd, namespace k8s.io."""
        return _run(
            ["ctr", "--address", str(self.containerd_socket), "--namespace", "k8s.io", *args],
            timeout=timeout,
        )

    def _start_containerd(self) -> None:
        cni_conf = self.workdir / "cni"
        cni_conf.mkdir()
        (cni_conf / "10-bulkhead-node.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "1.0.0",
                    "name": f"bulkhead-node-{self.run_id}",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": self.bridge,
                            "isGateway": True,
                            "ipMasq": False,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "dataDir": str(self.workdir / "ipam"),
                                "ranges": [[{"subnet": POD_SUBNET, "gateway": POD_GATEWAY}]],
                                "routes": [{"dst": "0.0.0.0/0"}],
                            },
                        },
                        {"type": "portmap", "capabilities": {"portMappings": True}},
                    ],
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        config = self.workdir / "containerd.toml"
        config.write_text(
            f"""version = 2
root = "{self.workdir / "containerd-root"}"
state = "{self.workdir / "containerd"}"
oom_score = 0
[grpc]
  address = "{self.containerd_socket}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # root here cannot lower oom_score_adj (no CAP_SYS_RESOURCE)
  restrict_oom_score_adj = true
  # cgroup v1 without a hugetlb hierarchy
  tolerate_missing_hugetlb_controller = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/bin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni_conf}"
""",
            encoding="utf-8",
        )
        self._spawn("containerd", ["containerd", "--config", str(config)])
        self._wait_up("containerd", lambda: self._probe(
            ["ctr", "--address", str(self.containerd_socket), "version"]))  # fmt: skip

    def _import_images(self, pause_archive: pathlib.Path) -> None:
        self.ctr("images", "import", "--base-name", "localhost/pause", str(pause_archive))
        # --digests records localhost/bulkhead@sha256:<manifest digest>, the
        # name the chart's image-by-digest resolves to without a registry.
        self.ctr(
            "images", "import", "--digests", "--base-name", IMAGE_REPOSITORY,
            str(self.image_archive), timeout=300,
        )  # fmt: skip
        self.image_digest = archive_digest(self.image_archive)
        names = self.ctr("images", "ls", "-q").split()
        wanted = f"{IMAGE_REPOSITORY}@{self.image_digest}"
        if wanted not in names or PAUSE_IMAGE not in names:
            raise NodeError(f"images not in containerd after import: {names}")

    def _start_coredns(self, dns_bin: pathlib.Path) -> None:
        corefile = self.workdir / "Corefile"
        corefile.write_text(
            f""".:53 {{
    bind {NODE_IP}
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {self.workdir / "coredns.kubeconfig"} node
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
    loadbalance
}}
""",
            encoding="utf-8",
        )
        self._spawn("coredns", [str(dns_bin / "coredns"), "-conf", str(corefile)])
        self._wait_up(
            "coredns", lambda: self._probe(["curl", "-sf", "http://127.0.0.1:18181/ready"])
        )

    def _make_cgroup_root(self) -> None:
        """The kubelet's cgroup root, in every hierarchy (it must exist beforehand)."""
        base = pathlib.Path("/sys/fs/cgroup")
        for hierarchy in sorted(base.iterdir()):
            if not (hierarchy / "cgroup.procs").exists():
                continue
            root = hierarchy / self.cgroup_root.lstrip("/")
            root.mkdir(exist_ok=True)
            for inherited in ("cpuset.cpus", "cpuset.mems"):
                # cgroup v1 cpusets start empty; a child needs its parent's sets.
                if (hierarchy / inherited).exists():
                    (root / inherited).write_text(
                        (hierarchy / inherited).read_text(encoding="utf-8"), encoding="utf-8"
                    )

    def _start_kubelet(self, node_bin: pathlib.Path, pki_dir: pathlib.Path) -> None:
        self._make_cgroup_root()
        resolv = self.workdir / "resolv.conf"
        resolv.write_text("", encoding="utf-8")
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # cgroup v1 here; kubelet 1.35 refuses it unless told otherwise.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": self.cgroup_root,
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "address": NODE_IP,
            "port": 10250,
            "readOnlyPort": 0,
            "tlsCertFile": str(pki_dir / "kubelet.crt"),
            "tlsPrivateKeyFile": str(pki_dir / "kubelet.key"),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(pki_dir / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            # root cannot lower its own oom_score_adj here (no CAP_SYS_RESOURCE).
            "oomScoreAdj": 0,
            "failSwapOn": False,
            "clusterDomain": "cluster.local",
            "clusterDNS": [NODE_IP],
            "resolvConf": str(resolv),
            "podLogsDir": str(self.workdir / "pod-logs"),
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "serializeImagePulls": False,
            # Secret volumes follow their Secret within seconds: the suite
            # rotates certificates every minute.
            "syncFrequency": "10s",
            "evictionHard": {
                "memory.available": "100Mi", "nodefs.available": "2%", "imagefs.available": "2%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
        }  # fmt: skip
        path = self.workdir / "kubelet.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        self._spawn(
            "kubelet",
            [
                str(node_bin / "kubelet"), f"--config={path}",
                f"--kubeconfig={self.workdir / 'kubelet.kubeconfig'}",
                f"--root-dir={self.workdir / 'kubelet'}",
                f"--hostname-override={NODE_NAME}", f"--node-ip={NODE_IP}", "--v=1",
            ],
        )  # fmt: skip
        self._wait_up(
            "kubelet", lambda: self._probe(["curl", "-sf", "http://127.0.0.1:10248/healthz"])
        )

    def _start_kube_proxy(self, node_bin: pathlib.Path) -> None:
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "mode": "iptables",
            "clusterCIDR": POD_SUBNET,
            "hostnameOverride": NODE_NAME,
            "bindAddress": "0.0.0.0",  # noqa: S104 - inside the node's own namespace
            "healthzBindAddress": "127.0.0.1:10256",
            "metricsBindAddress": "127.0.0.1:10249",
            "clientConnection": {"kubeconfig": str(self.workdir / "kube-proxy.kubeconfig")},
            # nf_conntrack sysctls are read-only outside the initial network namespace.
            "conntrack": {
                "maxPerCore": 0, "min": 0,
                "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s",
            },
        }  # fmt: skip
        path = self.workdir / "kube-proxy.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        self._spawn("kube-proxy", [str(node_bin / "kube-proxy"), f"--config={path}", "--v=1"])
        self._wait_up(
            "kube-proxy", lambda: self._probe(["curl", "-sf", "http://127.0.0.1:10256/healthz"])
        )

    def _node_ready(self) -> bool:
        result = self.kubectl("get", "node", NODE_NAME, "-o", "json", check=False)
        if result.returncode != 0:
            return False
        conditions = json.loads(result.stdout)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    # -- teardown pieces ---------------------------------------------------

    def _remove_containers(self) -> None:
        """Stop every container of this containerd; their shims exit with them."""
        for task in self.ctr("tasks", "ls", "-q").split():
            with contextlib.suppress(NodeError):
                self.ctr("tasks", "kill", "--signal", "SIGKILL", task)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(NodeError):
                for task in self.ctr("tasks", "ls", "-q").split():
                    self.ctr("tasks", "delete", "--force", task)
            if not self.ctr("tasks", "ls", "-q").split():
                break
            time.sleep(0.5)
        for container in self.ctr("containers", "ls", "-q").split():
            with contextlib.suppress(NodeError):
                self.ctr("containers", "delete", container)

    @staticmethod
    def _unmount_under(root: pathlib.Path, problems: list[str]) -> None:
        prefix = str(root) + "/"
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1] for line in mounts]
        for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
            result = subprocess.run(["umount", "-l", point], capture_output=True, check=False)
            if result.returncode != 0:
                problems.append(f"could not unmount {point}: {result.stderr.decode().strip()}")

    def _remove_pod_netns(self, problems: list[str]) -> None:
        if not self._netns_made and not self._netns_before:
            return
        for name in set(self._netns_names()) - self._netns_before - {self.netns}:
            if name.startswith("cni-"):
                _run(["ip", "netns", "delete", name], check=False)
                if name in self._netns_names():
                    problems.append(f"pod network namespace {name} left")

    def _remove_cgroups(self, problems: list[str]) -> None:
        base = pathlib.Path("/sys/fs/cgroup")
        for hierarchy in base.iterdir() if base.is_dir() else ():
            root = hierarchy / self.cgroup_root.lstrip("/")
            if not root.is_dir():
                continue
            for _ in range(20):
                for directory in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if directory.is_dir():
                        with contextlib.suppress(OSError):
                            directory.rmdir()
                with contextlib.suppress(OSError):
                    root.rmdir()
                if not root.exists():
                    break
                time.sleep(0.5)
            if root.exists():
                problems.append(f"cgroup {root} left")

    # -- using the node ----------------------------------------------------

    def _tool(
        self,
        argv: Sequence[str],
        *,
        input_text: str | None,
        check: bool,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return controlplane.run_tool(
            self.netns_argv(argv), input_text=input_text, check=check, timeout=timeout, env=env
        )

    def kubectl(
        self, *args: str, input_text: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """The real kubectl, as cluster admin, from inside the node's namespace."""
        argv = [str(self.kubetools_dir / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args]
        return self._tool(argv, input_text=input_text, check=check, timeout=timeout)

    def kubectl_json(self, *args: str) -> dict[str, Any]:
        """``kubectl get ... -o json``, decoded."""
        decoded: dict[str, Any] = json.loads(self.kubectl(*args, "-o", "json").stdout)
        return decoded

    def helm(
        self, *args: str, check: bool = True, timeout: float = 300.0
    ) -> subprocess.CompletedProcess[str]:
        """The real helm, as cluster admin, with private helm directories."""
        env = controlplane.helm_environment(kubeconfig=self.kubeconfig, home=self.workdir / "helm")
        argv = [str(self.kubetools_dir / "helm"), *args]
        return self._tool(argv, input_text=None, check=check, timeout=timeout, env=env)

    def install_chart(self, *settings: str) -> tuple[str, ...]:
        """``helm install`` of the chart with this node's image by digest, waited for.

        As docs/install.md installs it: its own namespace, labelled to enforce
        the ``restricted`` Pod Security level. ``settings`` are more helm flags
        (``--set`` ...); returns every ``--set`` flag used, for upgrades.
        """
        namespace = RELEASE_NAMESPACE
        self.kubectl("create", "namespace", namespace)
        self.kubectl(
            "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
        )
        set_flags = (
            "--set", f"image.repository={IMAGE_REPOSITORY}",
            "--set", f"image.digest={self.image_digest}",
            *settings,
        )  # fmt: skip
        started = time.monotonic()
        self.helm(
            "install", RELEASE, str(CHART), "--namespace", namespace, *set_flags,
            "--wait", "--timeout", "5m",
        )  # fmt: skip
        self.timings["helm install --wait"] = round(time.monotonic() - started, 1)
        return set_flags

    def memory(self) -> dict[str, int]:
        """Resident memory in MiB: each node process, and the Pods' cgroup."""
        figures: dict[str, int] = {}
        for name, proc in self._processes.items():
            with contextlib.suppress(OSError):
                status = pathlib.Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        figures[name] = int(line.split()[1]) // 1024
        usage = pathlib.Path("/sys/fs/cgroup/memory") / self.cgroup_root.lstrip("/")
        with contextlib.suppress(OSError):
            raw = (usage / "memory.usage_in_bytes").read_text(encoding="utf-8")
            figures["pods (cgroup, with page cache)"] = int(raw) // (1024 * 1024)
        return figures
