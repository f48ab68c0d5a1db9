"""Instructions per review, counted by valgrind: a figure the machine's load does not move.

Not a test: it measures and prints. On a shared machine (and this one: the
hypervisor steals time, and the same server measured 20 % apart depending
on its environment's size) times and rates move more than most changes to
the code do; the number of instructions a piece of work executes does not.
Each figure is the difference between two runs under ``valgrind
--tool=callgrind``, one doing the work ``--repeat`` times more than the
other, divided by that count, so start-up and loading are not in it.

The work, for ``benchmarks/server.py``'s 3.1 KB Pod review against
``restricted`` + a policy with every rule, as the front does it in-process
(no TLS, HTTP or event loop, which run in C and the kernel, mostly outside
what valgrind counts):

* ``decode``: the strict JSON reading (``webhook.server.decoding``);
* ``decide``: the decision alone (``admission.decide``), parsing excluded;
* ``noop``: the whole answer of ``/noop`` (decoding, parsing, log line,
  metrics, encoding: everything but the decision);
* ``validate``: the whole answer of ``/validate``.

Run from the repository root (Debian: ``apt-get install -y valgrind``):

    .venv/bin/python benchmarks/instructions.py [--repeat 500] [--core compiled|sources]

The pure core is the one mypyc compiled, as in the image, unless
``--core sources`` (see ``benchmarks/server.py``).

Each of the eight valgrind runs takes 10-30 s.
"""

from __future__ import annotations

import argparse
import datetime
import io
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable

import server as bench
import yaml

from webhook import admission, jsonlogs, policy
from webhook.server import decoding, frames, logs, metrics, reloading, reviews, settings

WORK = ("decode", "decide", "noop", "validate")


def _work(directory: pathlib.Path, name: str) -> Callable[[], object]:
    """The function doing one piece of ``name``'s work, everything it needs loaded."""
    body = bench.review_body()
    if name == "decode":
        return lambda: decoding.decode(body)
    policy_text = bench.ALL_RULES % {"name": "all-rules", "action": "Deny", "match": ""}
    if name == "decide":
        policies = [
            policy.compile(
                {
                    "apiVersion": "bulkhead.dev/v1alpha1",
                    "kind": "ClusterContainerPolicy",
                    "metadata": {"name": "restricted"},
                    "spec": {"action": "Deny", "profile": {"level": "restricted"}},
                }
            ),
            policy.compile(yaml.safe_load(policy_text)),
        ]
        request = admission.parse(decoding.decode(body))
        labels = {"kubernetes.io/metadata.name": "shop"}
        now = datetime.datetime.now(datetime.UTC)
        return lambda: admission.decide(request, policies, namespace_labels=labels, now=now, cap=20)
    cert, key = bench.write_tls(directory)
    policy_file = directory / "all-rules.yaml"
    policy_file.write_text(policy_text)
    config = settings.resolve(
        {
            "tls_cert_file": str(cert),
            "tls_private_key_file": str(key),
            "policy_file": [str(policy_file)],
            "profile": ["restricted"],
            "enable_noop_endpoint": "true",
        },
        {},
    )
    held, _ = reloading.load(config)
    runtime = reviews.Runtime(
        settings=config,
        state=held,
        metrics=metrics.Recorder(),
        log=jsonlogs.logger("server"),
        review_log=logs.ReviewLog(level=config.log_level, stream=io.StringIO()),
    )
    request = frames.Request("POST", f"/{name}", "application/json", "application/json", body)
    judge = name == "validate"

    def answer() -> object:
        answered = reviews.answer(runtime, request, judge=judge)
        runtime.metrics.take()  # as the front does after each answer
        return answered

    return answer


def _inner(name: str, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bulkhead-instructions-") as temp:
        work = _work(pathlib.Path(temp), name)
        work()  # caches and first-use costs are in both runs
        for _ in range(repeat):
            work()


def _instructions(name: str, repeat: int) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--inner", name, "--repeat", str(repeat),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=500, help="pieces of work counted")
    parser.add_argument("--inner", choices=WORK, help=argparse.SUPPRESS)
    parser.add_argument("--core", choices=("compiled", "sources"), default="compiled")
    args = parser.parse_args()
    if args.inner:
        _inner(args.inner, args.repeat)
        return 0
    if shutil.which("valgrind") is None:
        sys.stderr.write("valgrind is missing: install it with `apt-get install -y valgrind`\n")
        return 2
    print(f"the pure core: {bench.use_core(args.core)}")
    print(f"instructions per piece of work (valgrind, {args.repeat} pieces counted)")
    for name in WORK:
        extra = _instructions(name, args.repeat) - _instructions(name, 0)
        print(f"  {name:9} {extra / args.repeat:12,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
