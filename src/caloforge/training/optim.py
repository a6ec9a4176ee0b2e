"""Optimizer and learning-rate-schedule factories: one AdamW and one schedule per parameter group.

Example:
    >>> import torch
    >>> from caloforge.training.config import TrainConfig
    >>> params = {"main": [torch.nn.Parameter(torch.zeros(2))]}
    >>> opts = build_optimizers(params, {}, TrainConfig(lr=0.1))
    >>> sched = build_scheduler(opts["main"], TrainConfig(warmup_steps=10), total_steps=100)
    >>> round(opts["main"].param_groups[0]["lr"], 4)  # warm-up starts at lr / (warmup + 1)
    0.0091
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import nn
from torch.optim import AdamW, Optimizer
from torch.optim.lr_scheduler import LambdaLR

from caloforge.training.config import TrainConfig

__all__ = ["build_optimizers", "build_scheduler"]

_DEFAULT_LR = 1e-3
_DEFAULT_BETAS = (0.9, 0.999)


def build_optimizers(
    groups: Mapping[str, list[nn.Parameter]],
    recommended: Mapping[str, Mapping[str, Any]],
    config: TrainConfig,
) -> dict[str, Optimizer]:
    """One AdamW per group.

    Arguments:
        groups: ``model.optimizer_groups()``.
        recommended: ``model.optimizer_settings()``: per-group ``lr``/``betas`` used unless the
            train config sets them.
        config: Train settings.

    Raises:
        ValueError: If a group has no parameters.
    """
    optimizers: dict[str, Optimizer] = {}
    for name, params in groups.items():
        if not params:
            msg = f"optimizer group {name!r} has no trainable parameters"
            raise ValueError(msg)
        hint = recommended.get(name, {})
        lr = config.lr if config.lr is not None else float(hint.get("lr", _DEFAULT_LR))
        beta1, beta2 = config.betas if config.betas is not None else tuple(hint.get("betas", _DEFAULT_BETAS))
        optimizers[name] = AdamW(params, lr=lr, betas=(float(beta1), float(beta2)), weight_decay=config.weight_decay)
    return optimizers


def build_scheduler(optimizer: Optimizer, config: TrainConfig, *, total_steps: int) -> LambdaLR:
    """Linear warm-up, then constant or cosine decay to ``min_lr_factor`` over ``total_steps``.

    Arguments:
        optimizer: The group's optimizer.
        config: Train settings (``scheduler``, ``warmup_steps``, ``min_lr_factor``).
        total_steps: Steps this optimizer will take.
    """
    warmup = max(config.warmup_steps, 0)
    kind, floor = config.scheduler, config.min_lr_factor
    total = max(total_steps, warmup + 1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if kind == "constant":
            return 1.0
        progress = min((step - warmup) / max(total - warmup, 1), 1.0)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
