"""Training: one epoch, evaluation, and the resumable fit loop.

The loop follows torchvision's references/classification: ``train_one_epoch`` and
``evaluate`` are small, each epoch logs one fixed-format line, and after each epoch the
full training state is written to ``checkpoint.pt`` (temporary file, then rename). A run
restarted after a kill resumes from that file. The batch order and augmentation are
seeded per epoch and every RNG state is restored. So on the CPU, with the same seed and
the same number of threads, the final weights equal those of an uninterrupted run bit
for bit.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from lookbook.classifier.data import BatchLoader
from lookbook.classifier.models import build_model, count_parameters, model_meta, set_train_mode
from lookbook.io import atomic_path, write_tsv

log = logging.getLogger(__name__)

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_s"]


@dataclass
class Split:
    """Images of one split: uint8 ``[N, H, W, 3]`` RGB, int64 labels and ids ``[N]``."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray


@dataclass
class FitResult:
    model: nn.Module
    meta: dict[str, Any]
    history: list[dict[str, float]]
    best_epoch: int
    train_seconds: float


def amp_dtype_for(device: torch.device) -> torch.dtype | None:
    """Return the autocast dtype: bf16 on a CUDA GPU that supports it, fp16 on older GPUs, None (fp32) on the CPU."""
    # NOTE: the CUDA path (autocast, channels_last, the fp16 GradScaler) is untested here
    # because the test machine has no GPU. Only the CPU fp32 path is exercised by tests.
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def train_one_epoch(
    model: nn.Module,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: BatchLoader,
    device: torch.device,
    scaler: torch.amp.GradScaler,
    amp_dtype: torch.dtype | None,
) -> dict[str, float]:
    """Train one pass over ``loader``; return mean loss, accuracy, image count and seconds."""
    set_train_mode(model)
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    for x, y in loader:
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with _autocast(device, amp_dtype):
            logits = model(x)
            loss = criterion(logits, y)
        optimizer.zero_grad(set_to_none=True)
        # The scaler only scales for fp16; with bf16 or fp32 it is disabled and passes through.
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        seen += len(y)
    seconds = time.perf_counter() - start
    return {"loss": total_loss / seen, "acc": correct / seen, "images": seen, "seconds": seconds}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    criterion: nn.Module,
    loader: BatchLoader,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
) -> dict[str, float]:
    """Return mean loss and accuracy of ``model`` over ``loader`` in eval mode."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in loader:
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with _autocast(device, amp_dtype):
            logits = model(x)
        total_loss += criterion(logits.float(), y).item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        seen += len(y)
    return {"loss": total_loss / seen, "acc": correct / seen}


def rng_state() -> dict[str, Any]:
    """Return every global RNG state as plain data and tensors, loadable with weights_only=True."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": keys.tolist(), "pos": position, "has_gauss": has_gauss, "cached": cached},
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            np.array(numpy_state["keys"], dtype=np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached"],
        )
    )
    random.setstate(state["python"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def recipe_of(config: dict[str, Any]) -> dict[str, Any]:
    """Return the part of ``config`` that a checkpoint must match to be resumed.

    ``classifier.epochs`` is left out, so a finished run can be extended, and so are
    ``classifier.compare`` and the job resources, which do not change the weights.
    """
    classifier = {k: v for k, v in config["classifier"].items() if k not in ("epochs", "compare")}
    keys = ("preset", "data_dir", "demo", "labels", "split", "cache")
    return {"classifier": classifier, **{key: config.get(key) for key in keys}}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` through a temporary file, so a kill leaves the previous checkpoint whole."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_resumable(path: Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """Return the checkpoint at ``path`` when it matches ``config``; otherwise move it aside and return None."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    reason = None
    if recipe_of(state["config"]) != recipe_of(config):
        reason = "its recipe differs from the current config"
    elif state["epoch"] > config["classifier"]["epochs"]:
        reason = f"it has {state['epoch']} epochs done, more than classifier.epochs={config['classifier']['epochs']}"
    if reason is None:
        return state
    stale = path.with_name(f"{path.stem}.stale-{time.strftime('%Y%m%dT%H%M%S')}{path.suffix}")
    path.rename(stale)
    log.warning("not resuming from %s because %s; moved it to %s and starting from epoch 1", path, reason, stale)
    return None


def fit(
    train: Split,
    val: Split,
    classes: list[str],
    config: dict[str, Any],
    out_dir: str | Path,
    device: torch.device,
    on_epoch_end: Callable[[int], None] | None = None,
) -> FitResult:
    """Train ``config["classifier"]`` on ``train``, select the best epoch on ``val``.

    Writes ``checkpoint.pt`` after every epoch and ``metrics.tsv`` (columns
    METRIC_COLUMNS) under ``out_dir``, and resumes from ``checkpoint.pt`` when it is there
    and matches the config. ``on_epoch_end(epoch)`` runs after each checkpoint; tests use
    it to interrupt a run. Returns the best model (in eval mode) and its ``best.pt``
    metadata, which the caller saves with :func:`save_best`.
    """
    settings = config["classifier"]
    out_dir = Path(out_dir)
    checkpoint_path = out_dir / "checkpoint.pt"
    image_size = int(config["cache"]["classifier_size"])
    arch = settings["arch"]

    seed_everything(settings["seed"])
    model = build_model(arch, len(classes), settings["pretrained"], settings.get("weights_path"), settings["trainable"])
    model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    log.info(
        "%s: %d parameters, %d trainable (trainable=%s, pretrained=%s)",
        arch,
        count_parameters(model),
        count_parameters(model, trainable_only=True),
        settings["trainable"],
        settings["pretrained"],
    )

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=settings["lr"], weight_decay=settings["weight_decay"])
    amp_dtype = amp_dtype_for(device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    criterion = nn.CrossEntropyLoss()
    meta = model_meta(arch, classes, image_size, config, epoch=0)

    train_loader = BatchLoader(
        train.images, train.labels, meta, settings["batch_size"], shuffle=True,
        augment=settings["augment"], seed=settings["seed"], device=device,
    )
    val_loader = BatchLoader(val.images, val.labels, meta, settings["batch_size"], device=device)

    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"epoch": 0, "val_acc": -1.0, "val_loss": float("inf"), "model": None}
    start_epoch = 0
    # A kill during a checkpoint write leaves atomic_path's temporary file behind.
    for partial in out_dir.glob(f".{checkpoint_path.stem}.*{checkpoint_path.suffix}"):
        log.warning("removing %s, a partial checkpoint of a killed run", partial)
        partial.unlink()
    state = load_resumable(checkpoint_path, config)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])
        history = state["history"]
        best = state["best"]
        start_epoch = state["epoch"]
        log.info("resuming from %s after epoch %d", checkpoint_path, start_epoch)

    epochs = settings["epochs"]
    for epoch in range(start_epoch + 1, epochs + 1):
        train_loader.set_epoch(epoch)
        epoch_start = time.perf_counter()
        train_stats = train_one_epoch(model, criterion, optimizer, train_loader, device, scaler, amp_dtype)
        val_stats = evaluate(model, criterion, val_loader, device, amp_dtype)
        row = {
            "epoch": epoch,
            "train_loss": train_stats["loss"],
            "train_acc": train_stats["acc"],
            "val_loss": val_stats["loss"],
            "val_acc": val_stats["acc"],
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - epoch_start,
            "images_per_s": train_stats["images"] / train_stats["seconds"],
        }
        history.append(row)
        log.info(
            "epoch %d/%d train_loss %.4f train_acc %.4f val_loss %.4f val_acc %.4f lr %.2e seconds %.1f images/s %.1f",
            epoch,
            epochs,
            row["train_loss"],
            row["train_acc"],
            row["val_loss"],
            row["val_acc"],
            row["lr"],
            row["seconds"],
            row["images_per_s"],
        )
        # Ties in accuracy go to the lower validation loss, then to the earlier epoch.
        if (row["val_acc"], -row["val_loss"]) > (best["val_acc"], -best["val_loss"]):
            best = {
                "epoch": epoch,
                "val_acc": row["val_acc"],
                "val_loss": row["val_loss"],
                "model": copy.deepcopy(model.state_dict()),
            }

        save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "epoch": epoch,
                "rng": rng_state(),
                "history": history,
                "best": best,
                "config": config,
                "arch": arch,
                "classes": list(classes),
                "image_size": image_size,
            },
        )
        write_tsv(out_dir / "metrics.tsv", pd.DataFrame(history, columns=METRIC_COLUMNS))
        if on_epoch_end is not None:
            on_epoch_end(epoch)

    if best["model"] is None:
        raise RuntimeError(f"no epoch finished in {out_dir}; classifier.epochs={epochs}")
    model.load_state_dict(best["model"])
    model.eval()
    meta = model_meta(arch, classes, image_size, config, epoch=best["epoch"])
    train_seconds = float(sum(row["seconds"] for row in history))
    log.info("best epoch %d with val_acc %.4f; %.0f s of training", best["epoch"], best["val_acc"], train_seconds)
    return FitResult(model=model, meta=meta, history=history, best_epoch=best["epoch"], train_seconds=train_seconds)


def save_best(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> None:
    """Write ``best.pt``: the CPU state dict of ``model`` plus ``meta`` (see lookbook.classifier.models)."""
    state_dict = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"model": state_dict, **meta}, tmp)
