"""The report's search figure: example queries with their top matches, network
embeddings above raw pixels, neighbours of the query's class captioned in green."""

from __future__ import annotations

import os
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from lookbook.io import atomic_path  # noqa: E402
from lookbook.search.sheet import SheetRow, draw_sheet  # noqa: E402

METHOD_TITLES = {"network": "classifier features", "pixels": "raw pixels"}
CRITERION_TITLES = {"label": "class", "articleType": "articleType", "baseColour": "baseColour"}


def example_rows(examples: pd.DataFrame, image_of: Callable[[int], np.ndarray | None]) -> list[SheetRow]:
    """Turn ``examples.tsv`` rows into sheet rows: per query, one row per method.

    ``image_of`` returns the uint8 ``[H, W, 3]`` image of an id, or None when it has none.
    """
    rows = []
    for query_id, query in examples.groupby("query_id", sort=False):
        query_label = str(query["query_label"].iloc[0])
        for method, neighbours in query.groupby("method", sort=False):
            neighbours = neighbours.sort_values("rank")
            rows.append(
                SheetRow(
                    query_image=image_of(int(query_id)),
                    query_caption=f"query {query_id}\n{query_label}\n{METHOD_TITLES.get(method, method)}",
                    neighbour_images=[image_of(int(i)) for i in neighbours["id"]],
                    neighbour_captions=[
                        f"{row.similarity:.3f} {row.label}\n{row.articleType}\n{row.baseColour}"
                        for row in neighbours.itertuples()
                    ],
                    matches=(neighbours["label"] == query_label).tolist(),
                )
            )
    return rows


def draw_examples(examples: pd.DataFrame, image_of: Callable[[int], np.ndarray | None], path: str | os.PathLike) -> None:
    """Draw the example figure; captions give cosine similarity, class, articleType and colour."""
    draw_sheet(example_rows(examples, image_of), path)


def draw_metrics(metrics: pd.DataFrame, path: str | os.PathLike) -> None:
    """Draw precision@k and mAP per criterion as bars, network beside raw pixels.

    A black tick on each bar pair marks the chance level, the precision of a random ranking.
    """
    k = int(metrics["k"].iloc[0])
    panels = [("precision_at_k", f"precision@{k}"), ("mean_average_precision", "mean average precision")]
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    try:
        for axis, (column, title) in zip(axes, panels):
            data = metrics.assign(
                method=metrics["method"].map(lambda m: METHOD_TITLES.get(m, m)),
                criterion=metrics["criterion"].map(lambda c: CRITERION_TITLES.get(c, c)),
            )
            sns.barplot(data=data, x="criterion", y=column, hue="method", ax=axis)
            chance = metrics.drop_duplicates("criterion")
            axis.scatter(range(len(chance)), chance["chance_precision"], marker="_", s=600, color="black", label="chance", zorder=3)
            axis.set_title(title)
            axis.set_xlabel("a match has the same")
            axis.set_ylabel("")
            axis.set_ylim(0, 1)
            axis.legend(fontsize=8)
        figure.tight_layout()
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=120, format="png")
    finally:
        plt.close(figure)
