"""A small results tree in the layout of docs/results-layout.md, for the report tests.

The files hold made-up but consistent values (counts add up, the confusion matrix
matches the predictions) and product names full of LaTeX special characters, so
the report stage can be tested without running the other stages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lookbook import config as lookbook_config
from lookbook.io import read_json, write_json, write_tsv
from lookbook.labels import get_scheme, slugify
from lookbook.report import context as report_context
from lookbook.report import provenance

# Product names as they occur in styles.csv, with every LaTeX special character.
TRICKY_NAMES = [
    r"Puma Men's Tee & Shorts 100% Cotton_Blue #1",
    r"Fastrack $ Watch {Limited} ~ Edition ^2 \ Steel",
    "Nike <Air> Jordan",
]


def fixture_config(**overrides: Any) -> dict[str, Any]:
    """Return the resolved tiny-preset config with ``overrides`` merged in."""
    return lookbook_config.resolve({"preset": "tiny", **overrides})


def write_png(path: Path, seed: int) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, size=(24, 32, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image), f"cv2 could not write {path}"


def write_results(root: Path, config: dict[str, Any], gan_skipped: tuple[str, ...] = ("women-other",)) -> dict[str, str]:
    """Write every report input under ``root`` and return ``report_inputs(config)``."""
    classes = list(get_scheme(config["labels"]["scheme"]).classes)
    inputs = report_context.report_inputs(config)
    rng = np.random.default_rng(0)

    # Data: 60 images, 10 per class, split 45/6/9.
    ids = np.arange(10000, 10060)
    labels = [classes[i % len(classes)] for i in range(len(ids))]
    splits = ["train"] * 45 + ["val"] * 6 + ["test"] * 9
    names = [TRICKY_NAMES[i % len(TRICKY_NAMES)] for i in range(len(ids))]
    styles = pd.DataFrame({"id": ids, "productDisplayName": names, "label": labels})
    write_tsv(root / inputs["styles_clean"], styles)
    write_json(
        root / inputs["data_summary"],
        {"data_dir": "results/demo-data", "styles_sha256": "ab" * 32, "image_files": 61, "images_digest": "cd" * 32, "rows": {"kept": 60, "excluded": 4}},
    )
    write_json(root / inputs["manifest"], {"sha256": "ef" * 32, "seed": 2024, "shares": {"train": 0.75, "val": 0.1, "test": 0.15}})
    write_tsv(root / inputs["exclusion_counts"], pd.DataFrame({"reason": ["unisex", "missing_image"], "count": [3, 1]}))
    count_rows = []
    for split in ("all", "train", "val", "test"):
        chosen = [label for label, s in zip(labels, splits) if split == "all" or s == split]
        for label in classes:
            count = chosen.count(label)
            count_rows.append({"split": split, "label": label, "count": count, "share": count / len(chosen)})
    write_tsv(root / inputs["class_counts"], pd.DataFrame(count_rows))

    # Classifier: two epochs, predictions for the 9 test images with two errors.
    arch = config["classifier"]["arch"]
    metrics = pd.DataFrame(
        {"epoch": [1, 2], "train_loss": [1.5, 1.1], "train_acc": [0.41, 0.62], "val_loss": [1.4, 1.2], "val_acc": [0.5, 0.6667], "lr": [1e-3, 1e-3], "seconds": [3.2, 3.1], "images_per_s": [14.1, 14.5]}
    )
    write_tsv(root / inputs["classifier_metrics"], metrics)
    test_ids = ids[np.array(splits) == "test"]
    true = [labels[int(i - 10000)] for i in test_ids]
    predicted = list(true)
    predicted[0], predicted[1] = classes[(classes.index(true[0]) + 1) % 6], classes[(classes.index(true[1]) + 2) % 6]
    probs = rng.dirichlet(np.ones(len(classes)), size=len(test_ids))
    prediction_frame = pd.DataFrame({"id": test_ids, "split": "test", "true_label": true, "predicted_label": predicted})
    for index, name in enumerate(classes):
        prediction_frame[f"prob_{slugify(name)}"] = probs[:, index]
    write_tsv(root / inputs["classifier_predictions"], prediction_frame)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(true, predicted):
        confusion[classes.index(t), classes.index(p)] += 1
    per_class = []
    for index, name in enumerate(classes):
        tp = confusion[index, index]
        precision = tp / max(confusion[:, index].sum(), 1)
        recall = tp / max(confusion[index].sum(), 1)
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        per_class.append({"class": name, "precision": precision, "recall": recall, "f1": f1, "support": int(confusion[index].sum())})
    write_json(
        root / inputs["classifier_evaluation"],
        {
            "arch": arch,
            "classes": classes,
            "test": {"accuracy": 7 / 9, "macro_f1": 0.8, "per_class": per_class, "confusion_matrix": confusion, "n_images": 9},
            "test_accuracy": 7 / 9,
            "best_epoch": 2,
            "best_train_acc": 0.62,
            "best_val_acc": 0.6667,
            "epochs_run": 2,
            "parameters": 11_179_590,
            "trainable_parameters": 11_179_590,
            "train_seconds": 6.3,
            "image_size": 32,
            "hyperparameters": {"arch": arch, "lr": 1e-3, "batch_size": 32, "epochs": 2, "pretrained": "none"},
        },
    )
    if "classifier_comparison" in inputs:
        write_tsv(root / inputs["classifier_comparison"], pd.DataFrame({"arch": ["resnet18", "resnet34"], "test_accuracy": [0.7778, 0.6667], "parameters": [11179590, 21289798], "train_seconds": [6.3, 11.9]}))

    # Saliency, search.
    write_tsv(root / inputs["saliency_focus"], pd.DataFrame({"label": classes, "focus": np.linspace(0.6, 0.85, len(classes))}))
    write_tsv(root / inputs["saliency_sanity"], pd.DataFrame({"layer": ["fc", "layer4", "layer4"], "method": ["guided_backprop"] * 3, "spearman": [0.41, 0.12, float("nan")]}))
    write_tsv(root / inputs["search_metrics"], pd.DataFrame({"criterion": ["label", "articleType"], "embedding": ["network", "pixels"], "precision_at_k": [0.81, 0.33], "map": [0.74, 0.29]}))

    # DCGAN: every subset trained except ``gan_skipped``; all have status, quality, figures.
    for subset in report_context.gan_subsets(config):
        if subset in gan_skipped:
            status = {"subset": subset, "status": "skipped", "reason": "4 training images, fewer than gan.min_class_images=8", "n_train_images": 4}
            quality = {"subset": subset, "status": "skipped", "fid": None, "fid_floor_train_vs_test": None, "class_agreement": None, "real_test_agreement": 0.5}
        else:
            status = {"subset": subset, "status": "trained", "reason": None, "n_train_images": 45, "epochs_done": 1, "train_seconds": 4.2}
            quality = {
                "subset": subset,
                "status": "trained",
                "fid": 212.5,
                "fid_floor_train_vs_test": 18.25,
                "class_agreement": None if subset == "all" else 0.5,
                "real_test_agreement": None if subset == "all" else 0.75,
            }
        write_json(root / inputs[f"gan_status_{subset}"], status)
        write_json(root / inputs[f"gan_quality_{subset}"], quality)

    write_json(
        root / inputs["provenance"],
        provenance.collect(config, root, read_json(root / inputs["data_summary"]), read_json(root / inputs["manifest"])),
    )
    for seed, (name, path) in enumerate(sorted(inputs.items())):
        if name.startswith("fig_"):
            write_png(root / path, seed)
    return inputs


def write_benchmarks(root: Path) -> None:
    """Write two Snakemake benchmark files, one with memory not measured."""
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    path = root / "results" / "benchmarks" / "classifier_train" / "resnet18.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "12.5\t0:00:12\t812.3\t1500\t700\t720\t0\t1\t95\t11.9\n")
    path = root / "results" / "benchmarks" / "data_clean" / "data_clean.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "0.8\t0:00:00\t-\t-\t-\t-\t-\t-\t-\t-\n")
