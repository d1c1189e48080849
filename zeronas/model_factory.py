"""Loading a user's model factory, named ``MODULE:FUNCTION`` or ``path/to/file.py:FUNCTION``.

What ``zeronas score --model`` scores; the same from Python::

    model = zeronas.load_model("my_models:make_net", seed=0)
    zeronas.score(model, inputs, targets)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zeronas.errors import ZeronasUserError, one_line



def load_model(spec: str, *, seed: int = 0) -> nn.Module:
    """The ``nn.Module`` that ``FUNCTION()`` of ``spec`` returns, called after ``torch.manual_seed(seed)``.

    ``spec`` is ``MODULE:FUNCTION`` (MODULE importable from the current directory or
    ``sys.path``; FUNCTION may be dotted) or ``path/to/file.py:FUNCTION`` (the file may import
    its neighbours). Every failure (no such module, attribute, not callable, a model instance
    instead of a function, an exception in the user's code, a result that is not an
    ``nn.Module``) is a one-line ``ZeronasUserError``.
    """

    target, sep, attribute = spec.rpartition(":")
    usage = "name it MODULE:FUNCTION (MODULE importable from the current directory) or path/to/file.py:FUNCTION"
    if not (sep and target and attribute):
        raise ZeronasUserError(f"model {spec!r} names no function; {usage}")
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    if is_file:
        path = Path(target)
        if not path.is_file():
            raise ZeronasUserError(f"model file {target!r} does not exist; {usage}")
        module_name = f"_zeronas_model_{path.stem}"
        search = str(path.resolve().parent)  # so that the file can import its neighbours
    else:
        module_name, search = target, os.getcwd()  # as `python -m zeronas` would; the console script would not
    added = search not in sys.path and (is_file or "" not in sys.path)
    if added:
        sys.path.insert(0, search)
    importlib.invalidate_caches()
    try:
        if is_file:
            loader_spec = importlib.util.spec_from_file_location(module_name, path)
            if loader_spec is None or loader_spec.loader is None:
                raise ZeronasUserError(f"model file {target!r} cannot be imported as Python; {usage}")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[module_name] = module
            loader_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except ZeronasUserError:
        raise
    except ModuleNotFoundError as exc:
        if not is_file and exc.name is not None and (target == exc.name or target.startswith(exc.name + ".")):
            raise ZeronasUserError(f"model: no module named {exc.name!r} on the path (the current directory "
                                   f"included); {usage}") from None
        raise ZeronasUserError(f"model: importing {target!r} failed: {one_line(exc)}") from None
    except SystemExit as exc:
        raise ZeronasUserError(f"model: importing {target!r} exited (SystemExit {exc.code}); guard its script code "
                               "with if __name__ == '__main__'") from None
    except Exception as exc:  # noqa: BLE001  (the user's module: any failure, in one line)
        raise ZeronasUserError(f"model: importing {target!r} failed: {one_line(exc)}") from None
    finally:
        if added and search in sys.path:
            sys.path.remove(search)
    factory: Any = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise ZeronasUserError(f"model: {target!r} has no attribute {attribute!r}; name a function defined in "
                                   f"it, e.g. {target}:make_model")
        factory = getattr(factory, part)
    if isinstance(factory, nn.Module):
        raise ZeronasUserError(f"model: {spec!r} is a model instance, not a function; pass a function that builds "
                               "and returns it, so that --seed sets its initialisation")
    if not callable(factory):
        raise ZeronasUserError(f"model: {spec!r} is not callable (an object of type {type(factory).__name__}); pass "
                               "a function that returns an nn.Module")
    torch.manual_seed(seed)
    try:
        model = factory()
    except Exception as exc:  # noqa: BLE001  (the user's function)
        raise ZeronasUserError(f"model: calling {spec!r} failed: {one_line(exc)}; it is called with no "
                               "arguments") from None
    if not isinstance(model, nn.Module):
        raise ZeronasUserError(f"model: {spec!r} returned an object of type {type(model).__name__}, not a "
                               "torch.nn.Module; return the model")
    return model
