"""Choice of the torch device inside a job."""

from __future__ import annotations

import logging
import os

import torch

log = logging.getLogger(__name__)


def pick_device(request: str = "auto") -> torch.device:
    """Return the device for ``request`` (auto, cpu, cuda).

    A scheduler assigns GPUs through ``CUDA_VISIBLE_DEVICES``, which torch already
    honours, so ``cuda`` here is always the first GPU the job may use. With auto and
    no visible GPU the job runs on the CPU and logs a warning; SLURM_JOB_GPUS is not
    read because the SLURM executor plugin leaves it unset.
    """
    if request == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        device = torch.device("cuda")
        log.info("using GPU %s", torch.cuda.get_device_name(device))
        return device
    if request == "cuda":
        raise RuntimeError("device 'cuda' was requested but no GPU is visible; check CUDA_VISIBLE_DEVICES or use auto")
    log.warning("no GPU visible (CUDA_VISIBLE_DEVICES=%r); running on the CPU", os.environ.get("CUDA_VISIBLE_DEVICES"))
    return torch.device("cpu")
