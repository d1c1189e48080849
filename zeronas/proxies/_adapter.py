"""How every proxy runs a user's model: what its output is, and what BatchNorm does per sample.

**Output.** Proxies need one ``(N, ...)`` tensor per forward pass (logits for the label-based
ones). A model that returns something else is wrapped so that it does:

* a tensor is used as it is;
* a tuple or list: its first element that is a tensor (``(logits, features)``, ``(logits, aux)``);
* a dict: its ``"logits"`` entry, else ``"out"``, else its only tensor value;
* anything else, or a custom rule: pass ``output_fn=`` (a callable from the model's output to the
  tensor) to :func:`zeronas.score`.

**BatchNorm in single-sample passes.** GradSign's per-sample gradients and MeCo run each sample
on its own in training mode; a BatchNorm2d then normalises with that sample's spatial
statistics, as the official code does. Where a BatchNorm sees one value per channel and sample
(``BatchNorm1d`` on ``(N, C)``, a BatchNorm2d after global pooling), per-sample statistics do not exist, so those layers normalise
each sample with the statistics of the whole batch (evaluation mode on batch statistics,
computed on the batch with every other BatchNorm in its per-sample form). The score's reason
names the layers this rule was applied to.

**Notes.** A proxy may attach a remark to an ``ok`` score with :func:`note`; the runner reports
it as the score's reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from zeronas.errors import ZeronasUserError

OutputFn = Callable[[Any], torch.Tensor]

_NOTES: ContextVar[list[str] | None] = ContextVar("zeronas_notes", default=None)


def note(text: str) -> None:
    """Attach ``text`` to the score being computed (shown as its reason); a no-op outside a run."""
    notes = _NOTES.get()
    if notes is not None and text not in notes:
        notes.append(text)


@contextmanager
def collecting_notes() -> Iterator[list[str]]:
    """Collect the :func:`note` s of the computation run inside."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def default_output(output: Any) -> torch.Tensor:
    """The tensor the proxies use from a model's ``output`` (see the module docstring)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)):
        for item in output:
            if isinstance(item, torch.Tensor):
                return item
    if isinstance(output, dict):
        for key in ("logits", "out"):
            if isinstance(output.get(key), torch.Tensor):
                return output[key]
        tensors = [v for v in output.values() if isinstance(v, torch.Tensor)]
        if len(tensors) == 1:
            return tensors[0]
    raise ZeronasUserError(
        f"the model returns {_describe(output)}, with no tensor the proxies can use; pass output_fn=<callable "
        "returning the logits tensor from the model's output>"
    )


def _describe(output: Any) -> str:
    if isinstance(output, dict):
        return f"a dict with keys {', '.join(map(repr, output))}"
    return f"a {type(output).__name__}"


class OutputAdapter(nn.Module):
    """``model`` whose forward returns ``output_fn(model(...))``: one tensor for every proxy."""

    def __init__(self, model: nn.Module, output_fn: OutputFn = default_output) -> None:
        super().__init__()
        self.model = model
        self.output_fn = output_fn

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        out = self.output_fn(self.model(*args, **kwargs))
        if not isinstance(out, torch.Tensor):
            raise ZeronasUserError(f"output_fn returned {_describe(out)}; it must return the logits tensor")
        return out


def adapt_output(model: nn.Module, sample_output: Any, output_fn: OutputFn | None = None) -> nn.Module:
    """``model`` itself when it returns a tensor and no ``output_fn`` is given, else an :class:`OutputAdapter`.

    Models that return tensors stay unwrapped so that their declared capabilities stay visible.
    """
    if output_fn is None and isinstance(sample_output, torch.Tensor):
        return model
    rule = output_fn or default_output
    if output_fn is None:
        default_output(sample_output)  # an unusable output is refused now, in one line
    return OutputAdapter(model, rule)


def has_parameters(model: nn.Module) -> bool:
    return next(model.parameters(), None) is not None


def _single_valued(x: torch.Tensor) -> bool:
    return x.numel() == x.shape[0] * x.shape[1]  # one value per channel and sample


def _per_sample_form(module: _BatchNorm, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
    """What ``module`` in training mode gives each sample alone: instance normalisation with its affine."""
    x = args[0]
    if _single_valued(x):
        return output
    return F.instance_norm(x, weight=module.weight, bias=module.bias, eps=module.eps)


def _forward_in_train_mode(work: nn.Module, batchnorms: dict[_BatchNorm, str], hook: Callable[..., Any],
                           inputs: torch.Tensor) -> None:
    """One forward of ``inputs`` without gradients, ``hook`` on every BatchNorm, each in training mode.

    The random number generator is left as it was, so random layers (dropout) draw the same
    numbers in the pass that follows whether or not these forwards ran.
    """
    modes = {module: module.training for module in batchnorms}
    hooks = [module.register_forward_hook(hook) for module in batchnorms]
    try:
        for module in batchnorms:
            module.train()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            work(inputs)
    finally:
        for h in hooks:
            h.remove()
        for module, training in modes.items():
            module.train(training)


def _has_single_valued_batchnorm(work: nn.Module, batchnorms: dict[_BatchNorm, str], probe: torch.Tensor) -> bool:
    """Whether some BatchNorm of ``work`` sees one value per channel and sample (``(N, C)``, ``(N, C, 1, 1)``).

    Decided from shapes in a forward of two samples (at most), a small fraction of the cost of
    the full-batch forward that recording the statistics needs; most CNNs have no such layer.
    """
    found = []
    _forward_in_train_mode(work, batchnorms, lambda _m, args, _out: found.append(_single_valued(args[0])), probe)
    return any(found)


def use_batch_statistics_where_single_valued(work: nn.Module, inputs: torch.Tensor) -> list[str]:
    """Freeze the BatchNorms of ``work`` that would see one value per channel in a single-sample pass.

    A forward of two samples finds them by shape (most CNNs have none, and nothing more runs);
    then one forward of ``inputs`` (no gradients) in which every other BatchNorm acts per sample:
    each single-valued BatchNorm records the biased mean and variance of its input over the batch,
    keeps them as running statistics and is put in evaluation mode, so that a later single-sample
    pass normalises with them. Returns the names of the frozen layers (none for most CNNs).
    ``work`` must be a working copy: it is modified in place.
    """
    batchnorms = {module: name for name, module in work.named_modules() if isinstance(module, _BatchNorm)}
    if not batchnorms or not _has_single_valued_batchnorm(work, batchnorms, inputs[:2]):
        return []
    statistics: dict[_BatchNorm, tuple[torch.Tensor, torch.Tensor]] = {}

    def record(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        x = args[0]
        if _single_valued(x):
            flat = x.reshape(x.shape[0], x.shape[1])
            statistics[module] = (flat.mean(0), flat.var(0, unbiased=False))  # type: ignore[index]
            return output
        return _per_sample_form(module, args, output)  # type: ignore[arg-type]

    _forward_in_train_mode(work, batchnorms, record, inputs)
    for module, (mean, var) in statistics.items():
        module.track_running_stats = True
        module.running_mean = mean.detach().clone()
        module.running_var = var.detach().clone()
        module.num_batches_tracked = torch.tensor(1)
        module.eval()
    if statistics:
        names = ", ".join(batchnorms[m] or "<model>" for m in statistics)
        note(f"BatchNorm {names} normalised each sample with the batch's statistics "
             "(one value per channel per sample: per-sample statistics are undefined)")
    return [batchnorms[m] for m in statistics]
