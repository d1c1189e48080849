"""The Ray executor on a real two-node Ray cluster on this machine: values, a lost node, user errors.

The cluster is a head and a worker node, one CPU each, started with ``ray start`` in their own
process groups (so that teardown stops exactly them, not every Ray on the machine). Both nodes
use ``127.0.0.1``, which Ray replaces by the machine's address; the worker node shares the
head's temp dir (Ray's default), and every fixed port Ray would use is given a free one, so the
two nodes (and a parallel run) do not collide. Token authentication is off (``RAY_AUTH_MODE``):
unset, a head turns it on where ``~/.ray/auth_token`` exists and a worker node does not (Ray
2.60), so the worker could not join. A failure to start Ray fails the tests (CI installs the
``ray`` extra); they are skipped only off Linux, as they read ``/proc``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CONV_CELL, DEAD_CELL, MIXED_CELL
from zeronas import Evaluator
from zeronas.errors import ZeronasUserError
from zeronas.runner.executors import RayExecutor, SerialExecutor, make_executor
from zeronas.runner.task import Job

CELLS = [
    MIXED_CELL, DEAD_CELL, CONV_CELL,
    "|skip_connect~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|",
]
PROXIES = ["params", "synflow"]
_START_SECONDS = 120


@dataclass
class Cluster:
    address: str
    groups: dict[str, int]  # node ("head", "worker") -> process group of its Ray processes


def _free_ports(n: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _ray_start(args: list[str], groups: dict[str, int], node: str) -> None:
    """``ray start ARGS`` in a new process group (its daemons stay in it); fail with its output."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    ray = str(Path(sys.executable).with_name("ray"))
    try:
        proc = subprocess.Popen([ray, "start", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, start_new_session=True)
    except OSError as exc:
        pytest.fail(f"could not run {ray} start ({exc}); install the ray extra: pip install -e '.[test,ray]'")
    groups[node] = proc.pid
    try:
        output, _ = proc.communicate(timeout=_START_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"ray start of the {node} node took over {_START_SECONDS} s:\n{output[-4000:]}")
    if proc.returncode != 0:
        pytest.fail(f"ray start of the {node} node failed (exit {proc.returncode}):\n{output[-4000:]}")


def _stop(groups: dict[str, int]) -> None:
    """SIGKILL to each node's process group (as ``ray stop --force``, but to these nodes only)."""
    for group in groups.values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_members(g) for g in groups.values()):
        time.sleep(0.1)


def _processes() -> Iterator[tuple[int, str, str, int]]:
    """(pid, name, state, process group) of every process, from ``/proc``."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            state, _ppid, group = stat[stat.rindex(")") + 2:].split()[:3]
            yield int(entry.name), name, state, int(group)


def _members(group: int) -> list[int]:
    """The live (not zombie) processes of ``group``."""
    return [pid for pid, _name, state, g in _processes() if g == group and state != "Z"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not sys.platform.startswith("linux"):
        pytest.skip("starts and stops Ray nodes through /proc")
    import ray

    port, client, dashboard, head_agent, worker_agent = _free_ports(5)
    temp_dir = tempfile.mkdtemp(prefix="zr-ray-")  # short: Ray's socket paths must fit in 107 bytes
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats",
              "--object-store-memory=100000000", "--min-worker-port=0", "--max-worker-port=0"]
    groups: dict[str, int] = {}
    try:
        _ray_start(["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp_dir}",
                    f"--ray-client-server-port={client}", f"--dashboard-port={dashboard}",
                    f"--dashboard-agent-listen-port={head_agent}", *common], groups, "head")
        _ray_start([f"--address=127.0.0.1:{port}", f"--dashboard-agent-listen-port={worker_agent}", *common],
                   groups, "worker")
        yield Cluster(address=f"127.0.0.1:{port}", groups=groups)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(groups)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.mark.slow
def test_a_ray_cluster_scores_as_the_serial_executor_does(cluster):
    import ray

    serial = Evaluator("nb201", dataset="cifar10", proxies=PROXIES, executor=SerialExecutor(),
                       progress=False).score(CELLS)
    with RayExecutor(workers=2, address=cluster.address, chunk_size=2) as ex:
        table = Evaluator("nb201", dataset="cifar10", proxies=PROXIES, executor=ex, progress=False).score(CELLS)
        evaluator = Evaluator("nb201", dataset="cifar10", proxies=PROXIES, progress=False)
        jobs = [Job(arch=evaluator.space.as_arch(c), proxy_keys=tuple(evaluator.keys)) for c in CELLS]
        yielded = [(job, records) for job, records in ex.run(evaluator.context(), jobs)]
        assert ex.contexts_sent == 1  # the same context: its data went to the object store once
        assert len(ray.nodes()) == 2
    assert not ray.is_initialized()  # the executor made the connection, so it closed it
    for key in PROXIES:
        np.testing.assert_array_equal(table[key], serial[key])
    assert Counter(id(job) for job, _ in yielded) == Counter(id(job) for job in jobs)  # each job once
    assert all(len(records) == len(PROXIES) for _, records in yielded)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:imagenet16. only 120 images")
def test_a_user_error_in_a_ray_task_reaches_the_caller_as_itself(cluster):
    from zeronas.proxies.linear_regions import LinearRegions

    with RayExecutor(workers=2, address=cluster.address) as ex, \
            pytest.raises(ZeronasUserError, match="larger than the 16x16 images"):
        Evaluator("nb201", dataset="imagenet16", proxies=[LinearRegions(crop=32)], executor=ex,
                  progress=False).score(CELLS[:2])


@pytest.mark.slow
def test_the_campaign_command_joins_a_cluster_by_address(cluster, tmp_path, capsys):
    import json

    from zeronas.campaign import load_scores
    from zeronas.cli import main

    argv = ["campaign", "--benchmark", "nb201", "--datasets", "cifar10", "--proxies", ",".join(PROXIES),
            "--sample", "6", "--executor", "ray", "--address", cluster.address, "--workers", "2",
            "--out", str(tmp_path), "--json", "--no-progress"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["jobs_run"], summary["records_written"]) == (6, 6 * len(PROXIES))
    assert load_scores(tmp_path).num_rows == 6 * len(PROXIES)


class _KillingExecutor(RayExecutor):
    """Kills the Ray worker node's raylet as the first result arrives, with tasks still in flight."""

    def __init__(self, group: int, **options) -> None:
        super().__init__(**options)
        self.group, self.killed = group, 0

    def run(self, context, jobs):  # type: ignore[override]
        for pair in super().run(context, jobs):
            if not self.killed:
                raylets = [pid for pid, name, state, g in _processes() if g == self.group and name == "raylet"]
                assert raylets, "no raylet found for the worker node"
                for pid in raylets:
                    os.kill(pid, signal.SIGKILL)
                self.killed = len(raylets)
            yield pair


@pytest.mark.slow
def test_a_campaign_survives_a_lost_ray_node(cluster, tmp_path):
    """Last of the cluster's tests: it leaves the head alone."""
    from zeronas.campaign import load_scores, run_campaign

    with _KillingExecutor(cluster.groups["worker"], workers=2, address=cluster.address, chunk_size=1) as ex:
        result = run_campaign("nb201", datasets=["cifar10"], proxies=PROXIES, out=tmp_path, sample=24, executor=ex,
                              progress=False, compact_at_end=False)
    assert ex.killed == 1
    assert (result.jobs_run, result.records_written) == (24, 48)  # every job yielded once
    from zeronas.campaign.shards import shard_paths

    lines = [line for p in shard_paths(tmp_path) for line in p.read_text().splitlines()]
    keys = Counter((json.loads(line)["arch"], json.loads(line)["proxy"]) for line in lines)
    assert len(lines) == 48 and len(keys) == 24 * len(PROXIES) and set(keys.values()) == {1}  # no record twice
    scores = load_scores(tmp_path)
    assert "error" not in scores.column("status").to_pylist()


def test_the_ray_executor_without_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # ``import ray`` raises ImportError
    with pytest.raises(ZeronasUserError, match=r"pip install 'zeronas\[ray\]'") as caught:
        make_executor(2, kind="ray")
    assert "\n" not in str(caught.value)
