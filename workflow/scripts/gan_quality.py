"""Measure one subset's generated images: FID, class agreement, neighbours (rule gan_quality)."""

from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])  # noqa: F821

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lookbook.classifier.models import load_trained  # noqa: E402
from lookbook.device import pick_device  # noqa: E402
from lookbook.gan.pipeline import run_quality  # noqa: E402
from lookbook.io import read_json, write_json  # noqa: E402

smk = snakemake  # noqa: F821
torch.set_num_threads(smk.threads)
device = pick_device("auto")
model, meta = load_trained(smk.input.model, map_location=device)
with np.load(smk.input.real) as archive:
    real = {name: archive[name] for name in archive.files}
result = run_quality(
    subset=smk.wildcards.subset,
    classes=smk.params.classes,
    status=read_json(smk.input.status),
    samples=np.load(smk.input.samples),
    real=real,
    model=model,
    meta=meta,
    batch_size=smk.params.batch_size,
    device=device,
)
write_json(smk.output[0], result)
