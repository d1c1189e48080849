"""TE-NAS number of linear regions (Chen et al., ICLR 2021), as ``linear_region_counter.py`` counts it.

The number of distinct activation patterns (which ReLU outputs are positive, over every ReLU
applied to a 4-D tensor) among the input samples: each distinct pattern is one linear region
of the network that the samples visit. Forward passes only, training-mode BatchNorm, no labels.
Higher is better (more regions, more expressive).

TE-NAS counts on a *thin* network (one cell of width 1, no stem) fed 3 batches of 1000
random 3x3 crops of one random colour channel of training images (xautodl normalisation),
re-initialised as TE-NAS does (``init="kaiming"``: Conv/Linear weights N(0, 2/fan_in), biases
0, BatchNorm 1/0; ``init="model"`` keeps the weights as built). A
model that declares :class:`~zeronas.spaces.capabilities.LinearRegionNetwork` (NAS-Bench-201 networks do) is counted that
way: ``samples`` crops of ``crop`` x ``crop`` pixels drawn from the batch's images. Any other
model is counted on the batch itself, as given; if there every sample has its own pattern, the
count only says that the batch is too small for the network (it equals the number of samples
for any wide model), and the score is NaN with that reason. ReLUs applied as functions count
as ``nn.ReLU`` modules do.
"""

from __future__ import annotations

import copy

import torch

from zeronas.errors import ZeronasUserError
from zeronas.proxies._activations import count_unique_rows, relu_codes
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import TE_NAS_INITS, kaiming_fanin_init
from zeronas.proxies._registry import register_proxy
from zeronas.spaces.capabilities import LinearRegionNetwork


def random_crops(images: torch.Tensor, samples: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    """``samples`` single-channel ``crop`` x ``crop`` patches at random images, channels and positions."""
    n, channels, height, width = images.shape
    if crop > min(height, width):
        raise ZeronasUserError(f"linear_regions crop {crop} is larger than the {height}x{width} images")
    image = torch.randint(n, (samples,), generator=generator)
    channel = torch.randint(channels, (samples,), generator=generator)
    top = torch.randint(height - crop + 1, (samples,), generator=generator)
    left = torch.randint(width - crop + 1, (samples,), generator=generator)
    offsets = torch.arange(crop)
    rows = (top[:, None] + offsets)[:, :, None].expand(samples, crop, crop)
    cols = (left[:, None] + offsets)[:, None, :].expand(samples, crop, crop)
    patches = images[image[:, None, None], channel[:, None, None], rows, cols]
    return patches[:, None]


@register_proxy
class LinearRegions(Proxy):
    """Number of distinct ReLU activation patterns over the samples; higher is better."""

    name = "linear_regions"
    version = "2"
    data = DataRecipe(batch_size=1000, normalization="nb201", augment=False)

    def __init__(self, *, samples: int = 3000, crop: int = 3, init: str = "kaiming") -> None:
        if samples < 2 or crop < 1:
            raise ZeronasUserError(f"linear_regions needs samples >= 2 and crop >= 1, got {samples}, {crop}")
        if init not in TE_NAS_INITS:
            raise ZeronasUserError(f"linear_regions init must be one of {', '.join(TE_NAS_INITS)}, got {init!r}")
        self.samples = int(samples)
        self.crop = int(crop)
        self.init = init

    def compute(self, model, inputs, targets):
        if isinstance(model, LinearRegionNetwork):
            network = model.linear_region_network().train()
            generator = torch.Generator().manual_seed(int(torch.randint(2**31 - 1, ()).item()))
            samples = random_crops(inputs, self.samples, self.crop, generator)
        else:
            network, samples = copy.deepcopy(model).train(), inputs
        if self.init == "kaiming":
            kaiming_fanin_init(network)
        codes = relu_codes(network, samples, spatial_only=True)
        if codes.shape[1] == 0:
            raise UndefinedScore("the model applies no ReLU (module or function); linear regions are ReLU patterns")
        regions = count_unique_rows(codes)
        if regions == len(samples) and not isinstance(model, LinearRegionNetwork):
            raise UndefinedScore(
                f"every one of the {len(samples)} samples has its own activation pattern, so the count only "
                "reflects the batch size; declare a thin LinearRegionNetwork or count on more samples"
            )
        return float(regions)
