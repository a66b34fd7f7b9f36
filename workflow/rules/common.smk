# Shared set-up: config resolution and validation, paths, resources and input functions.
import shutil
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

# Import the package from the checkout, here and in every job, so that a conda env
# without `pip install -e .` works.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from lookbook import config as lookbook_config
from lookbook.labels import get_scheme, slugify

lookbook_config.export_source_path()

# Merge the preset under the user's values and validate. lookbook's validator runs
# first because its message names the key and the allowed values in one line;
# Snakemake's own validate then fills the schema defaults into `config`.
try:
    _resolved = lookbook_config.resolve(dict(config))
except lookbook_config.ConfigError as error:
    raise WorkflowError(f"invalid configuration:\n{error}")
config.clear()
config.update(_resolved)
validate(config, "../schemas/config.schema.yaml")


PRESET = config["preset"]
SCHEME = get_scheme(config["labels"]["scheme"])
CLASSES = list(SCHEME.classes)
CLASS_SLUGS = [slugify(name) for name in CLASSES]
MAIN_ARCH = config["classifier"]["arch"]
ARCHS = list(dict.fromkeys([MAIN_ARCH, *config["classifier"]["compare"]]))
GAN_SUBSETS = ["all", *CLASS_SLUGS]
CLASSIFIER_SIZE = config["cache"]["classifier_size"]
GAN_SIZE = config["cache"]["gan_size"]
CACHE_SIZES = sorted({CLASSIFIER_SIZE, GAN_SIZE})
ARCH_CHOICES = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "vgg16",
    "densenet121",
]


def data_dir():
    """Directory in the Kaggle layout: the user's data_dir, or the generated demo dataset."""
    if config["data_dir"]:
        return config["data_dir"]
    return "results/demo-data"


def data_dir_inputs(wildcards=None):
    """Inputs that make the data stage rerun when the source changes."""
    if config["data_dir"]:
        return {"styles": str(Path(config["data_dir"]) / "styles.csv")}
    return {"styles": "results/demo-data/styles.csv"}


def rule_resources(kind):
    """Resources of a rule class from config['resources'][kind].

    Memory grows with each Snakemake retry (attempt 1, 2, ...) so that an
    out-of-memory kill is retried with more room.
    """
    spec = config["resources"][kind]
    return {
        "threads": spec["threads"],
        "mem_mb": lambda wildcards, attempt: spec["mem_mb"] * attempt,
        "runtime": spec["runtime"],
        "gpu": spec["gpu"],
    }


def job_resources(kind):
    """Return the resources of a class (mem_mb, runtime, gpu) without threads."""
    spec = rule_resources(kind)
    return {key: spec[key] for key in ("mem_mb", "runtime", "gpu")}


def latexmk_available():
    return config["report"]["pdf"] == "auto" and shutil.which("latexmk") is not None


def final_targets():
    targets = ["report/build/report.html", "report/build/report.tex"]
    if latexmk_available():
        targets.append("report/build/report.pdf")
    return targets
