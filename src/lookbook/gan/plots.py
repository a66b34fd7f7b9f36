"""Figures of the DCGAN stage: sample grids, loss curves and nearest training images.

Every figure is written atomically. A subset that was skipped or failed still gets each
figure, showing the status and reason instead of data, so the report has a file to embed.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless: jobs run without a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image
from torchvision.utils import make_grid

from lookbook.io import atomic_path

GRID_COLUMNS = 8
GRID_PADDING = 2  # pixels between tiles


def grid_image(images: np.ndarray, columns: int = GRID_COLUMNS) -> np.ndarray:
    """Tile uint8 images ``[N, H, W, 3]`` into one uint8 image, ``columns`` per row, on white."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    grid = make_grid(tensor, nrow=columns, padding=GRID_PADDING, pad_value=255)
    return grid.permute(1, 2, 0).numpy()


def save_grid_png(images: np.ndarray, path: str | os.PathLike) -> None:
    """Write the tiled ``images`` (uint8 ``[N, H, W, 3]``) as a PNG at their own resolution."""
    with atomic_path(path) as tmp:
        Image.fromarray(grid_image(images)).save(tmp, format="PNG")


def plot_grid_image(grid: np.ndarray, title: str, path: str | os.PathLike) -> None:
    """Draw an already tiled uint8 image ``[H, W, 3]``, such as a saved epoch grid, with a title."""
    fig, ax = plt.subplots(figsize=(7, 7 * grid.shape[0] / grid.shape[1] + 0.4))
    ax.imshow(grid, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    _save(fig, path)


def plot_losses(losses: pd.DataFrame, title: str, path: str | os.PathLike) -> None:
    """Draw the per-iteration losses and D(x), D(G(z)) of a ``losses.tsv`` table.

    Thin lines are the raw values; thick lines a moving mean over a fiftieth of the
    iterations, so the trend shows through the batch noise.
    """
    window = max(1, len(losses) // 50)
    fig, (ax_loss, ax_prob) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for column, label, color in (("loss_d", "discriminator", "tab:blue"), ("loss_g", "generator", "tab:orange")):
        ax_loss.plot(losses["iteration"], losses[column], color=color, alpha=0.3, linewidth=0.8)
        ax_loss.plot(losses["iteration"], losses[column].rolling(window, min_periods=1).mean(), color=color, label=label)
    ax_loss.set_ylabel("BCE loss")
    ax_loss.legend()
    ax_loss.set_title(title)
    for column, label, color in (("d_x", "D(x), real", "tab:green"), ("d_g_z", "D(G(z)), generated", "tab:red")):
        ax_prob.plot(losses["iteration"], losses[column], color=color, alpha=0.3, linewidth=0.8)
        ax_prob.plot(losses["iteration"], losses[column].rolling(window, min_periods=1).mean(), color=color, label=label)
    ax_prob.set_ylim(0, 1)
    ax_prob.set_ylabel("mean probability of real")
    ax_prob.set_xlabel("iteration")
    ax_prob.legend()
    _mark_epochs(losses, (ax_loss, ax_prob))
    _save(fig, path)


def plot_neighbours(
    samples: np.ndarray,
    neighbours: np.ndarray,
    distances: np.ndarray,
    title: str,
    path: str | os.PathLike,
) -> None:
    """Draw one row per generated image: the sample, then its nearest training images.

    ``samples`` is uint8 ``[Q, H, W, 3]``, ``neighbours`` uint8 ``[Q, k, H, W, 3]`` and
    ``distances`` the cosine distances ``[Q, k]`` shown above each neighbour.
    """
    rows, k = neighbours.shape[:2]
    fig, axes = plt.subplots(rows, k + 1, figsize=(1.4 * (k + 1), 1.5 * rows + 0.5), squeeze=False)
    for row in range(rows):
        axes[row, 0].imshow(samples[row])
        axes[row, 0].set_title("generated", fontsize=8, color="tab:red")
        for column in range(k):
            axes[row, column + 1].imshow(neighbours[row, column])
            axes[row, column + 1].set_title(f"d={distances[row, column]:.3f}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(title)
    _save(fig, path)


def plot_message(title: str, message: str, path: str | os.PathLike) -> None:
    """Draw a figure that states why there is no data, for a skipped or failed subset."""
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_title(title)
    ax.axis("off")
    _save(fig, path)


def _mark_epochs(losses: pd.DataFrame, axes) -> None:
    epoch_ends = losses.groupby("epoch")["iteration"].max().to_numpy()[:-1]
    if len(epoch_ends) > 40:  # too dense to read; leave the curves unmarked
        return
    for ax in axes:
        for iteration in epoch_ends:
            ax.axvline(iteration + 0.5, color="grey", linewidth=0.5, linestyle=":")


def _save(fig: plt.Figure, path: str | os.PathLike) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
