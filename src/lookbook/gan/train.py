"""DCGAN training: one subset of the 64 px cache, with per-epoch checkpoints, exact
resume and failure detection.

The loop follows the PyTorch DCGAN example: per batch, one discriminator step on a real
and a fake batch, then one generator step with the non-saturating loss (fakes labelled
real). Each finished epoch writes a checkpoint with everything needed to continue as if
the run had not stopped: both networks, both optimizers, the RNG states, the fixed noise,
the loss history and the fixed-noise samples of every epoch so far.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from lookbook.gan.dcgan import IMAGE_SIZE, Discriminator, Generator, build
from lookbook.io import atomic_path

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
GRID_SAMPLES = 64  # an 8x8 grid
LOSS_COLUMNS = ["iteration", "epoch", "loss_d", "loss_g", "d_x", "d_g_z"]


@dataclass(frozen=True)
class GanConfig:
    """Training hyperparameters; the names match the ``gan`` section of the config."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    seed: int = 0
    collapse_iterations: int = 200
    collapse_loss: float = 1e-3

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> GanConfig:
        """Build from the config's ``gan`` section, ignoring keys that do not shape training."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in section.items() if key in names})

    def resume_key(self) -> dict[str, Any]:
        """Settings a checkpoint must share with this config to be resumed.

        ``epochs`` is left out, so raising it continues a finished run.
        """
        values = dataclasses.asdict(self)
        del values["epochs"]
        return values


@dataclass
class TrainResult:
    """Outcome of ``train``: ``status`` is ``trained`` or ``failed``."""

    status: str
    reason: str | None
    epochs_done: int
    losses: pd.DataFrame
    grids: list[np.ndarray]
    """Fixed-noise samples per finished epoch, each uint8 ``[64, 64, 64, 3]``."""
    generator: Generator
    seconds: float
    resumed_from_epoch: int = 0
    failure_iteration: int | None = None


class GanTrainingFailure(RuntimeError):
    """Training diverged (a NaN loss) or the discriminator won outright (collapse)."""


@dataclass
class _State:
    """Everything that changes during training and goes into the checkpoint."""

    generator: Generator
    discriminator: Discriminator
    optimizer_g: torch.optim.Adam
    optimizer_d: torch.optim.Adam
    fixed_noise: torch.Tensor
    noise_rng: torch.Generator
    epoch: int = 0
    low_loss_streak: int = 0
    seconds: float = 0.0
    losses: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in LOSS_COLUMNS})
    grids: list[np.ndarray] = field(default_factory=list)


def to_model_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """Convert uint8 ``[B, 64, 64, 3]`` to float ``[B, 3, 64, 64]`` in [-1, 1], the range of Tanh."""
    return images_uint8.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Convert generator output ``[B, 3, 64, 64]`` in [-1, 1] to uint8 ``[B, 64, 64, 3]``."""
    scaled = images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255)
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def data_digest(ids: np.ndarray, images: np.ndarray) -> str:
    """Return a SHA-256 of the image ids and pixels, so a resume on other data is caught."""
    digest = hashlib.sha256(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(images).data)
    return digest.hexdigest()


@torch.no_grad()
def generate(generator: Generator, noise: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Return uint8 ``[N, 64, 64, 3]`` images from noise ``[N, nz, 1, 1]``.

    The generator runs in eval mode, so BatchNorm uses its running statistics and the
    output of one noise vector does not depend on the rest of the batch.
    """
    was_training = generator.training
    generator.eval()
    try:
        parts = [to_uint8(generator(noise[start : start + batch_size])) for start in range(0, len(noise), batch_size)]
    finally:
        generator.train(was_training)
    if not parts:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    return np.concatenate(parts)


def sample(generator: Generator, count: int, seed: int, device: torch.device) -> np.ndarray:
    """Return ``count`` uint8 images from noise drawn with its own ``seed``."""
    rng = torch.Generator(device="cpu").manual_seed(seed)
    noise = torch.randn(count, generator.nz, 1, 1, generator=rng).to(device)
    return generate(generator, noise)


def train(
    images: np.ndarray,
    config: GanConfig,
    checkpoint_path: str | Path | None,
    device: torch.device,
    ids: np.ndarray | None = None,
) -> TrainResult:
    """Train a DCGAN on uint8 ``images`` ``[N, 64, 64, 3]`` for ``config.epochs`` epochs.

    With ``checkpoint_path`` set, training resumes from that file when it exists and has
    the same settings and images. A checkpoint with other settings or images is logged
    and replaced by a fresh run. A NaN loss or a discriminator collapse returns a result
    with status ``failed`` and the history up to that iteration. The caller decides
    whether that stops the workflow.
    """
    if images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3) or images.dtype != np.uint8:
        raise ValueError(
            f"DCGAN images must be uint8 [N, {IMAGE_SIZE}, {IMAGE_SIZE}, 3], got {images.dtype} {list(images.shape)}; "
            "read them from the 64 px cache"
        )
    if len(images) == 0:
        raise ValueError("DCGAN training needs at least one image, got 0")
    ids = np.arange(len(images)) if ids is None else np.asarray(ids)
    digest = data_digest(ids, images)

    state = _load_or_start(checkpoint_path, config, digest, len(images), device)
    resumed_from = state.epoch
    # The whole subset sits on the device as uint8 (33k images at 64 px are 0.4 GB), so
    # batches need no loader.
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    # TODO: use bf16 autocast on CUDA; BCEWithLogitsLoss is safe under it, but every
    # device trains in fp32 for now.
    criterion = nn.BCEWithLogitsLoss()
    iterations_per_epoch = math.ceil(len(images) / config.batch_size)
    if state.epoch >= config.epochs:
        log.info("the checkpoint has finished all %d epochs; nothing to train", config.epochs)
    else:
        log.info(
            "training DCGAN on %d images, batch %d, %d iterations per epoch, epochs %d to %d, device %s",
            len(images), config.batch_size, iterations_per_epoch, state.epoch + 1, config.epochs, device,
        )

    while state.epoch < config.epochs:
        epoch = state.epoch + 1
        start = time.perf_counter()
        failure = train_one_epoch(state, data, criterion, config, epoch)
        state.seconds += time.perf_counter() - start
        if failure is not None:
            iteration = len(state.losses["iteration"])
            log.error("DCGAN training failed in epoch %d at iteration %d: %s", epoch, iteration, failure)
            return _result(state, "failed", failure, resumed_from, failure_iteration=iteration)

        state.epoch = epoch
        state.grids.append(generate(state.generator, state.fixed_noise))
        _log_epoch(state, epoch, iterations_per_epoch, time.perf_counter() - start, len(images))
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, state, config, digest, len(images))

    return _result(state, "trained", None, resumed_from)


def train_one_epoch(
    state: _State, data: torch.Tensor, criterion: nn.Module, config: GanConfig, epoch: int
) -> str | None:
    """Run one pass over ``data`` (uint8 ``[N, 64, 64, 3]`` on the device).

    Returns None, or the reason training failed: a non-finite loss, or a discriminator
    loss below ``collapse_loss`` for ``collapse_iterations`` iterations in a row.
    """
    generator, discriminator = state.generator, state.discriminator
    device = data.device
    generator.train()
    discriminator.train()

    # The order depends only on (seed, epoch), so a resumed run gets the same batches.
    order_rng = torch.Generator(device="cpu").manual_seed(config.seed * 1_000_003 + epoch)
    order = torch.randperm(len(data), generator=order_rng).to(device)

    for start in range(0, len(data), config.batch_size):
        real = to_model_range(data[order[start : start + config.batch_size]])
        batch = len(real)
        ones = torch.ones(batch, device=device)
        zeros = torch.zeros(batch, device=device)

        # Discriminator step: maximize log D(x) + log(1 - D(G(z))).
        noise = torch.randn(batch, config.nz, 1, 1, device=device, generator=state.noise_rng)
        fake = generator(noise)
        state.optimizer_d.zero_grad(set_to_none=True)
        logits_real = discriminator(real)
        logits_fake = discriminator(fake.detach())
        loss_d = criterion(logits_real, ones) + criterion(logits_fake, zeros)
        loss_d.backward()
        state.optimizer_d.step()

        # Generator step: maximize log D(G(z)), the non-saturating loss that Goodfellow et
        # al. (2014) use in place of minimizing log(1 - D(G(z))), scored by the updated D.
        state.optimizer_g.zero_grad(set_to_none=True)
        loss_g = criterion(discriminator(fake), ones)
        loss_g.backward()
        state.optimizer_g.step()

        row = {
            "iteration": len(state.losses["iteration"]) + 1,
            "epoch": epoch,
            "loss_d": loss_d.item(),
            "loss_g": loss_g.item(),
            # Mean discriminator probabilities before its update: D(x) for real, D(G(z)) for fake.
            "d_x": torch.sigmoid(logits_real.detach()).mean().item(),
            "d_g_z": torch.sigmoid(logits_fake.detach()).mean().item(),
        }
        for name in LOSS_COLUMNS:
            state.losses[name].append(row[name])

        failure = _check_failure(state, row, config)
        if failure is not None:
            return failure
    return None


def _check_failure(state: _State, row: dict[str, float], config: GanConfig) -> str | None:
    if not (math.isfinite(row["loss_d"]) and math.isfinite(row["loss_g"])):
        return f"non-finite loss at iteration {row['iteration']}: loss_d={row['loss_d']}, loss_g={row['loss_g']}"
    state.low_loss_streak = state.low_loss_streak + 1 if row["loss_d"] < config.collapse_loss else 0
    if state.low_loss_streak >= config.collapse_iterations:
        return (
            f"discriminator loss stayed below collapse_loss={config.collapse_loss} for "
            f"{state.low_loss_streak} iterations up to iteration {row['iteration']}: the generator "
            "no longer gets a gradient; lower gan.lr or raise gan.collapse_iterations"
        )
    return None


def _log_epoch(state: _State, epoch: int, iterations: int, seconds: float, n_images: int) -> None:
    recent = {name: values[-iterations:] for name, values in state.losses.items()}
    log.info(
        "epoch %d loss_d %.4f loss_g %.4f d_x %.4f d_g_z %.4f time %.1fs images/s %.1f",
        epoch,
        float(np.mean(recent["loss_d"])),
        float(np.mean(recent["loss_g"])),
        float(np.mean(recent["d_x"])),
        float(np.mean(recent["d_g_z"])),
        seconds,
        n_images / seconds if seconds > 0 else float("nan"),
    )


def _result(state: _State, status: str, reason: str | None, resumed_from: int, failure_iteration=None) -> TrainResult:
    losses = pd.DataFrame(state.losses, columns=LOSS_COLUMNS)
    losses[["iteration", "epoch"]] = losses[["iteration", "epoch"]].astype("int64")
    return TrainResult(
        status=status,
        reason=reason,
        epochs_done=state.epoch,
        losses=losses,
        grids=list(state.grids),
        generator=state.generator,
        seconds=state.seconds,
        resumed_from_epoch=resumed_from,
        failure_iteration=failure_iteration,
    )


def _new_state(config: GanConfig, device: torch.device) -> _State:
    torch.manual_seed(config.seed)
    generator, discriminator = build(config.nz, config.ngf, config.ndf)
    generator.to(device)
    discriminator.to(device)
    betas = (config.beta1, 0.999)
    # The fixed noise comes from its own CPU generator, so it is the same on any device.
    fixed_rng = torch.Generator(device="cpu").manual_seed(config.seed)
    fixed_noise = torch.randn(GRID_SAMPLES, config.nz, 1, 1, generator=fixed_rng).to(device)
    noise_rng = torch.Generator(device=device).manual_seed(config.seed + 1)
    return _State(
        generator=generator,
        discriminator=discriminator,
        optimizer_g=torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas),
        optimizer_d=torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=betas),
        fixed_noise=fixed_noise,
        noise_rng=noise_rng,
    )


def save_checkpoint(path: str | Path, state: _State, config: GanConfig, digest: str, n_images: int) -> None:
    """Write the full training state to a temporary file and rename it onto ``path``."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "epoch": state.epoch,
        "generator": state.generator.state_dict(),
        "discriminator": state.discriminator.state_dict(),
        "optimizer_g": state.optimizer_g.state_dict(),
        "optimizer_d": state.optimizer_d.state_dict(),
        "fixed_noise": state.fixed_noise.cpu(),
        "rng": {"noise": state.noise_rng.get_state(), "noise_device": str(state.noise_rng.device)},
        "low_loss_streak": state.low_loss_streak,
        "seconds": state.seconds,
        "losses": {name: torch.tensor(values, dtype=torch.float64) for name, values in state.losses.items()},
        "grids": torch.from_numpy(np.stack(state.grids)) if state.grids else torch.zeros(0, dtype=torch.uint8),
        "config": dataclasses.asdict(config),
        "data": {"sha256": digest, "n_images": n_images},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def _load_or_start(
    path: str | Path | None, config: GanConfig, digest: str, n_images: int, device: torch.device
) -> _State:
    state = _new_state(config, device)
    if path is None or not Path(path).is_file():
        return state
    # weights_only: the checkpoint contains only tensors, numbers, strings and dicts of them.
    # Loading to the CPU keeps the RNG state and grids on the CPU; load_state_dict copies
    # weights and optimizer moments to the device of the parameters.
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    mismatch = _checkpoint_mismatch(checkpoint, config, digest)
    if mismatch:
        log.warning("not resuming from %s because %s; starting a fresh run that will replace it", path, mismatch)
        return state

    state.generator.load_state_dict(checkpoint["generator"])
    state.discriminator.load_state_dict(checkpoint["discriminator"])
    state.optimizer_g.load_state_dict(checkpoint["optimizer_g"])
    state.optimizer_d.load_state_dict(checkpoint["optimizer_d"])
    state.fixed_noise = checkpoint["fixed_noise"].to(device)
    if checkpoint["rng"]["noise_device"] == str(state.noise_rng.device):
        state.noise_rng.set_state(checkpoint["rng"]["noise"].cpu())
    else:
        log.warning(
            "checkpoint noise RNG was on %s, this run uses %s; the resumed run continues with a reseeded noise RNG",
            checkpoint["rng"]["noise_device"], state.noise_rng.device,
        )
        state.noise_rng.manual_seed(config.seed + 1 + checkpoint["epoch"])
    state.epoch = int(checkpoint["epoch"])
    state.low_loss_streak = int(checkpoint["low_loss_streak"])
    state.seconds = float(checkpoint["seconds"])
    state.losses = {name: checkpoint["losses"][name].tolist() for name in LOSS_COLUMNS}
    state.grids = list(checkpoint["grids"].numpy()) if checkpoint["grids"].numel() else []
    log.info("resuming from %s after epoch %d (%d iterations)", path, state.epoch, len(state.losses["iteration"]))
    return state


def _checkpoint_mismatch(checkpoint: dict[str, Any], config: GanConfig, digest: str) -> str | None:
    """Return why ``checkpoint`` cannot be resumed under ``config``, or None."""
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        return f"its format {checkpoint.get('format')!r} is not {CHECKPOINT_FORMAT}"
    saved = dict(checkpoint["config"])
    saved.pop("epochs", None)
    expected = config.resume_key()
    changed = sorted(key for key in expected if saved.get(key) != expected[key])
    if changed:
        details = ", ".join(f"{key}: {saved.get(key)!r} -> {expected[key]!r}" for key in changed)
        return f"the settings changed ({details})"
    if checkpoint["data"]["sha256"] != digest:
        return f"the training images changed (the checkpoint saw {checkpoint['data']['n_images']} images with other ids or pixels)"
    if checkpoint["epoch"] > config.epochs:
        return f"it is at epoch {checkpoint['epoch']}, past the requested {config.epochs} epochs"
    return None
