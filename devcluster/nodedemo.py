"""``make demo-node``: the demo on a real one-node cluster, Bulkhead installed by ``helm install``.

The same steps as ``make demo`` (``devcluster.demo``), but Bulkhead runs the
way users run it: the image built here (``make image``) imported into
containerd by digest, the chart installed with ``helm install --wait`` into
``bulkhead-system``, the operator and two webhook Pods scheduled by the real
kubelet (``devcluster.node``). Then, with the real kubectl: the example
policies applied as objects and shown READY, the examples judged, the webhook
scaled to zero replicas to show fail-closed and scaled back, and a new policy
enforced within 2 seconds.

``python -m devcluster.nodedemo [--keep]`` runs in the foreground and needs
root. With ``--keep`` the node stays up until Enter or Ctrl-C (it prints how
to reach it); without, it is taken down at the end. Exits 1 if anything was
not as expected (``UNEXPECTED:`` lines say what).

I/O: everything ``devcluster.node`` does (processes, a network namespace,
cgroups, files under /var/tmp), and kubectl and helm inside the node's
network namespace.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Final

from devcluster import controlplane, demo
from devcluster import node as node_

#: The webhook Deployment the chart installs (``bulkhead.webhookDeploymentName``).
WEBHOOK_DEPLOYMENT: Final = "bulkhead-webhook"


def node_kubectl(node: node_.Node) -> demo.Kubectl:
    """The real kubectl inside the node's network namespace, in the demo's namespace."""
    kubeconfig = node.workdir / "demo-kubeconfig"
    kubectl = str(node.kubetools_dir / "kubectl")
    kubeconfig.write_bytes(node.kubeconfig.read_bytes())
    controlplane.run_tool(
        [kubectl, f"--kubeconfig={kubeconfig}", "config", "set-context", "--current",
         f"--namespace={demo.NAMESPACE}"],
        input_text=None, check=True, timeout=30.0,
    )  # fmt: skip

    def run(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return controlplane.run_tool(
            node.netns_argv([kubectl, f"--kubeconfig={kubeconfig}", *args]),
            input_text=input_text,
            check=False,
            timeout=60.0,
            cwd=controlplane.REPO_ROOT,  # the examples' paths are relative to it
        )

    return run


def prepare(node: node_.Node) -> None:
    """The demo's namespace and the example policies, applied with kubectl as objects.

    The namespace gets a ResourceQuota of zero Pods: the examples are judged
    and stored as in ``make demo``, but their controllers start no Pod, so the
    node never tries to pull the examples' made-up images from outside.
    """
    node.kubectl("create", "namespace", demo.NAMESPACE)
    node.kubectl("create", "quota", "no-pods", "--hard=pods=0", "-n", demo.NAMESPACE)
    demo.say(f"  namespace {demo.NAMESPACE} with a ResourceQuota of 0 Pods (nothing pulls the "
             "examples' images)")  # fmt: skip
    policies = controlplane.REPO_ROOT / demo.EXAMPLES / "policies"
    demo.say(f"$ kubectl apply -f {demo.EXAMPLES / 'policies'}/")
    demo.say(node.kubectl("apply", "-f", str(policies)).stdout.rstrip())
    demo.say()


def fail_closed(node: node_.Node, kubectl: demo.Kubectl) -> list[str]:
    """Scale the webhook to zero: nothing it judges is admitted; scale it back: admitted again."""
    say = demo.say
    say("=== Fail-closed: while no webhook Pod runs, nothing it judges is admitted")
    namespace = node_.RELEASE_NAMESPACE
    deployment = f"deployment/{WEBHOOK_DEPLOYMENT}"
    replicas = node.kubectl(
        "get", deployment, "-n", namespace, "-o", "jsonpath={.spec.replicas}"
    ).stdout.strip()
    down = ("scale", deployment, "-n", namespace, "--replicas=0")
    demo.show(kubectl(*down), *down)
    results: list[subprocess.CompletedProcess[str]] = []

    def refused() -> bool:
        results.append(kubectl(*demo.PROBE))
        return results[-1].returncode != 0 and "failed calling webhook" in results[-1].stderr

    problems = []
    if not demo.eventually(refused, timeout=120, interval=0.5):
        problems.append("UNEXPECTED: a request was not refused while the webhook was down")
    demo.show(results[-1], *demo.PROBE)
    up = ("scale", deployment, "-n", namespace, f"--replicas={replicas or 1}")
    demo.show(kubectl(*up), *up)
    started = time.monotonic()
    results.clear()

    def admitted() -> bool:
        results.append(kubectl(*demo.PROBE))
        return results[-1].returncode == 0

    if not demo.eventually(admitted, timeout=300, interval=1.0):
        problems.append("UNEXPECTED: the webhook did not come back")
        return problems
    say(f"  ... admitted again {time.monotonic() - started:.0f}s after scaling back")
    demo.show(results[-1], *demo.PROBE)
    say()
    return problems


def show(node: node_.Node) -> bool:
    """The demo's steps on a node with the chart installed; whether all went as expected."""
    prepare(node)
    kubectl = node_kubectl(node)
    problems = demo.show_policies(kubectl)
    verdicts = demo.apply_examples(kubectl)
    problems += fail_closed(node, kubectl)
    problems += demo.new_policy(kubectl)
    pods = ("get", "pods", "-n", node_.RELEASE_NAMESPACE, "-o", "wide")
    demo.show(kubectl(*pods), *pods)
    demo.say()
    return demo.summarize(kubectl, verdicts, problems)


def run(*, keep: bool) -> int:
    log_dir = pathlib.Path(tempfile.mkdtemp(prefix="bulkhead-demo-node-logs-", dir="/var/tmp"))
    demo.say("Bulkhead demo on a real node: the image by digest, `helm install` of the chart")
    demo.say(f"  starting the node (builds are cached; a cold one takes long); logs: {log_dir}")
    node = node_.Node(log_dir=log_dir)
    try:
        node.start()
        demo.say(f"  node Ready: {node.timings}")
        demo.say(f"$ helm install {node_.RELEASE} charts/bulkhead -n {node_.RELEASE_NAMESPACE} "
                 f"--set image.digest={node.image_digest} ... --wait")  # fmt: skip
        node.install_chart()
        demo.say(f"  installed in {node.timings['helm install --wait']}s")
        demo.say()
        ok = show(node)
        if keep:
            demo.say("The node keeps running until Enter or Ctrl-C. Use it (as root):")
            kubectl = node.netns_argv([str(node.kubetools_dir / "kubectl")])
            demo.say(f"  {' '.join(kubectl)} --kubeconfig={node.kubeconfig} get pods -A")
            with contextlib.suppress(EOFError, KeyboardInterrupt):
                input()
    finally:
        demo.say("  stopping the node")
        node.stop()
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devcluster.nodedemo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the node up until Enter or Ctrl-C"
    )
    args = parser.parse_args(argv)
    return run(keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
