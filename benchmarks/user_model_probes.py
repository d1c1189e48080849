"""Probes of user models, bad inputs, interrupted runs and CLI edge cases, with their outcomes.

Each probe prints one line: what was tried and what zeronas did (a score, a NaN with its
reason, or a one-line error with the exit code). Nothing here should print a traceback.

    python benchmarks/user_model_probes.py [--only api|cli] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import zeronas
from zeronas.errors import ZeronasUserError
from zeronas.proxies import Proxy
from zeronas.scoring import HEADLINE_PROXIES


def show(label: str, outcome: str) -> None:
    print(f"- {label}: {outcome}", flush=True)


def scored(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None, proxies) -> str:  # type: ignore[no-untyped-def]
    try:
        detailed = zeronas.score_detailed(model, x, y, proxies)
    except ZeronasUserError as exc:
        return f"ZeronasUserError: {exc}"
    except Exception as exc:  # the probe reports what escapes
        return f"ESCAPED {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    parts = []
    for name, s in detailed.items():
        parts.append(f"{name} {s.status} {s.value:.6g}" + (f" ({s.reason})" if s.reason else ""))
    return "; ".join(parts)


class MLPBatchNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Block(nn.Module):
    def __init__(self, channels: int, functional: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.functional = functional
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.functional:
            out = torch.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)) + x)
        out = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(out)) + x)


class TinyResNet(nn.Module):
    def __init__(self, blocks: int, functional: bool) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.stem_relu = nn.ReLU()
        self.functional = functional
        self.blocks = nn.Sequential(*[Block(16, functional) for _ in range(blocks)])
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.stem(x))
        x = x.relu() if self.functional else self.stem_relu(x)
        return self.head(self.blocks(x).mean((2, 3)))


class TupleOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.body(x)
        return logits, logits.detach()


class NoParameters(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :10]


class RaisesKeyError(Proxy):
    name = "raises_key_error"

    def compute(self, model, inputs, targets):  # type: ignore[no-untyped-def]
        return {}["missing"]


def api_probes() -> None:
    torch.manual_seed(0)
    x8, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    torch.manual_seed(0)
    mlp = MLPBatchNorm()
    show("MLP with BatchNorm1d, default proxies", scored(mlp, x8, y, HEADLINE_PROXIES))
    show("MLP with BatchNorm1d, meco", scored(mlp, x8, y, ["meco"]))
    for blocks in (1, 2):
        values = {}
        for functional in (False, True):
            torch.manual_seed(0)
            net = TinyResNet(blocks, functional)
            values[functional] = scored(net, x8, y, ["naswot", "swap", "linear_regions"])
        show(f"ResNet {blocks} block(s), nn.ReLU", values[False])
        show(f"ResNet {blocks} block(s), torch.relu/F.relu/Tensor.relu", values[True])
    torch.manual_seed(0)
    show("linear_regions on a custom MLP (batch 16)", scored(MLPBatchNorm(), x8, y, ["linear_regions"]))
    nan_inputs = torch.full_like(x8, float("nan"))
    one_nan = x8.clone()
    one_nan[0, 0, 0, 0] = float("nan")
    torch.manual_seed(0)
    net = TinyResNet(1, False)
    show("all-NaN inputs, gradsign and gradalign_gram", scored(net, nan_inputs, y, ["gradsign", "gradalign_gram"]))
    show("one NaN pixel, gradsign", scored(net, one_nan, y, ["gradsign"]))
    show("NaN inputs, epsinas", scored(net, nan_inputs, None, ["epsinas"]))
    show("labels out of range (10 classes, label 12)", scored(net, x8, torch.full((16,), 12), ["gradsign"]))
    show("inputs of the wrong shape (N, 5, 8, 8)", scored(net, torch.randn(16, 5, 8, 8), y, ["gradsign"]))
    torch.manual_seed(0)
    show("model returning (logits, features)", scored(TupleOutput(), x8, y, ["gradsign", "gradalign", "naswot", "epsinas", "synflow"]))
    show("model without parameters", scored(NoParameters(), x8, y, ["gradsign", "gradalign", "synflow", "params", "naswot"]))
    show("a proxy raising KeyError, beside params", scored(net, x8, y, [RaisesKeyError(), "params"]))


def cli(*argv: str, data_dir: str | None, cwd: str | None = None, stdin: str | None = None) -> tuple[int, str]:
    command = [sys.executable, "-m", "zeronas", *argv]
    if data_dir and argv and argv[0] in ("score", "correlate", "report") and "--data-dir" not in argv:
        command += ["--data-dir", data_dir]
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=900)
    return done.returncode, (done.stdout + done.stderr).strip()


def stderr_until(marker: str, *argv: str, data_dir: str | None, seconds: float = 120) -> str:
    """The first stderr line of a command that starts with ``marker``; the command is then stopped."""
    command = [sys.executable, "-m", "zeronas", *argv] + (["--data-dir", data_dir] if data_dir else [])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline, found = time.monotonic() + seconds, "no such line"
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(marker):
            found = line.strip()
            break
        if time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    return found


def brief(code: int, text: str, lines: int = 3) -> str:
    rows = text.splitlines()
    shown = " | ".join(rows[:lines]) + (f" ... ({len(rows)} lines)" if len(rows) > lines else "")
    return f"exit {code}: {shown}"


def cli_probes(data_dir: str | None) -> None:
    cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    show("zeronas (no arguments)", brief(*cli(data_dir=data_dir)))
    show("zeronas --version", brief(*cli("--version", data_dir=data_dir)))
    code, text = cli("list", data_dir=data_dir)
    show("zeronas list (first rows)", brief(code, text, 4))
    show("correlate --sample 20000 (nb201 has 15,625; stopped once it warned)",
         stderr_until("zeronas: warning", "correlate", "--sample", "20000", "--proxies", "params", "--no-progress",
                      data_dir=data_dir))
    code, text = cli("correlate", "--metric", "nonsense", "--proxies", "params", data_dir=data_dir)
    show("correlate --metric nonsense", f"{brief(code, text)} (longest line {max(map(len, text.splitlines()))} chars)")
    show("score --proxies params,params", brief(*cli("score", cell, "--proxies", "params,params", data_dir=data_dir)))
    show("score --option gradsign.nonsense=1",
         brief(*cli("score", cell, "--proxies", "gradsign", "--option", "gradsign.nonsense=1", data_dir=data_dir)))
    show("score an undefined epsinas (a cell with no input-output path)",
         brief(*cli("score", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--proxies", "epsinas,params",
                    data_dir=data_dir)))
    show("correlate header", brief(*cli("correlate", "--sample", "5", "--proxies", "params", "--no-progress",
                                        data_dir=data_dir), 1))
    with tempfile.TemporaryDirectory() as tmp:
        archs = Path(tmp, "archs.txt")
        archs.write_text(f"{cell}\n{cell}\n|not_an_op~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
        show("score --file with a bad third line", brief(*cli("score", "--file", str(archs), "--proxies", "params",
                                                              data_dir=data_dir)))
        record = Path(tmp, "odd.jsonl")
        record.write_text('{"hello": 1}\n')
        for label, path in (("a valid-JSON non-record line", record), ("a directory", Path(tmp))):
            show(f"correlate --results <{label}>",
                 brief(*cli("correlate", "--sample", "3", "--proxies", "params", "--results", str(path),
                            "--no-progress", data_dir=data_dir)))
        binary = Path(tmp, "scores.bin")
        binary.write_bytes(bytes(range(256)) * 4)
        show("correlate --results <a binary file>",
             brief(*cli("correlate", "--sample", "3", "--proxies", "params", "--results", str(binary), "--no-progress",
                        data_dir=data_dir)))
        notes = Path(tmp, "notes.md")
        original = "# my notes\nkeep me\n"
        notes.write_text(original)
        code, text = cli("correlate", "--sample", "3", "--proxies", "params", "--results", str(notes), "--no-progress",
                         data_dir=data_dir)
        show("correlate --results notes.md", f"{brief(code, text)}; file unchanged: {notes.read_text() == original}")
        show("SIGTERM to correlate --workers 2", sigterm_probe(tmp, data_dir))


def zeronas_processes(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
    return [line.strip() for line in out if marker in line and "ps -eo" not in line]


def sigterm_probe(tmp: str, data_dir: str | None) -> str:
    results = Path(tmp, "sigterm.jsonl")
    command = [sys.executable, "-m", "zeronas", "correlate", "--sample", "200", "--proxies", "gradsign,naswot",
               "--workers", "2", "--results", str(results), "--no-progress"]
    if data_dir:
        command += ["--data-dir", data_dir]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not results.exists() or results.stat().st_size == 0):
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return "the run did not exit within 30 s of SIGTERM"
    time.sleep(10)
    alive = zeronas_processes(str(results))
    kept = sum(1 for _ in results.open()) if results.exists() else 0
    last = err.strip().splitlines()[-1] if err.strip() else ""
    return f"exit {process.returncode} ({last}); processes alive 10 s later: {len(alive)}; records kept: {kept}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("api", "cli"), default=None)
    parser.add_argument("--data-dir", default=os.environ.get("ZERONAS_DATA"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.only in (None, "api"):
        api_probes()
    if args.only in (None, "cli"):
        cli_probes(args.data_dir)


if __name__ == "__main__":
    main()
