# Stage: visual search. The trained main classifier's penultimate-layer features of
# the gallery splits form the index; test images are the queries for the metrics.


SEARCH_GALLERY = config["search"]["gallery_splits"]
SEARCH_QUERY_SPLIT = "test"
SEARCH_SPLITS = sorted({*SEARCH_GALLERY, SEARCH_QUERY_SPLIT})
# Cached image arrays and id tables at the classifier's image size.
SEARCH_CACHE_PATTERN = "results/cache/{size}/{split}.{ext}"
SEARCH_CACHE_EXTS = ["npy", "ids.tsv"]


rule search_index:
    input:
        model=f"results/classifier/{MAIN_ARCH}/best.pt",
        styles="results/data/styles_clean.tsv",
        cache=expand(
            SEARCH_CACHE_PATTERN,
            size=CLASSIFIER_SIZE,
            split=SEARCH_GALLERY,
            ext=SEARCH_CACHE_EXTS,
        ),
        cache_meta=f"results/cache/{CLASSIFIER_SIZE}/meta.json",
    output:
        index="results/search/index.npz",
        table="results/search/index.tsv",
    log:
        "results/logs/search_index/search_index.log",
    benchmark:
        "results/benchmarks/search_index/search_index.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        # results/cache, taken from the inputs so that the path is written once.
        cache_dir=lambda wildcards, input: str(Path(input.cache[0]).parent.parent),
        size=CLASSIFIER_SIZE,
        # The cache decodes each JPEG once for its largest size; a query photo
        # decoded at the same size gets the same pixels.
        decode_size=max(CACHE_SIZES),
        splits=SEARCH_GALLERY,
        images_dir=str(Path(data_dir()) / "images"),
        batch_size=config["search"]["batch_size"],
    script:
        "../scripts/search_index.py"


rule search_evaluate:
    input:
        index=rules.search_index.output.index,
        table=rules.search_index.output.table,
        model=f"results/classifier/{MAIN_ARCH}/best.pt",
        styles="results/data/styles_clean.tsv",
        cache=expand(
            SEARCH_CACHE_PATTERN,
            size=CLASSIFIER_SIZE,
            split=SEARCH_SPLITS,
            ext=SEARCH_CACHE_EXTS,
        ),
        cache_meta=f"results/cache/{CLASSIFIER_SIZE}/meta.json",
    output:
        metrics="results/search/metrics.tsv",
        examples="results/search/examples.tsv",
    log:
        "results/logs/search_evaluate/search_evaluate.log",
    benchmark:
        "results/benchmarks/search_evaluate/search_evaluate.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        # results/cache, taken from the inputs so that the path is written once.
        cache_dir=lambda wildcards, input: str(Path(input.cache[0]).parent.parent),
        size=CLASSIFIER_SIZE,
        gallery_splits=SEARCH_GALLERY,
        query_split=SEARCH_QUERY_SPLIT,
        k=config["search"]["k"],
        pixel_size=config["search"]["pixel_size"],
        examples=config["search"]["examples"],
        seed=config["search"]["seed"],
        batch_size=config["search"]["batch_size"],
    script:
        "../scripts/search_evaluate.py"


rule search_plot:
    input:
        examples=rules.search_evaluate.output.examples,
        metrics=rules.search_evaluate.output.metrics,
        cache=expand(
            SEARCH_CACHE_PATTERN,
            size=CLASSIFIER_SIZE,
            split=SEARCH_SPLITS,
            ext=SEARCH_CACHE_EXTS,
        ),
        cache_meta=f"results/cache/{CLASSIFIER_SIZE}/meta.json",
    output:
        examples=report(
            "figures/search/examples.png",
            category="Visual search",
            caption="../report/search_examples.rst",
        ),
        metrics=report(
            "figures/search/metrics.png",
            category="Visual search",
            caption="../report/search_metrics.rst",
        ),
    log:
        "results/logs/search_plot/search_plot.log",
    benchmark:
        "results/benchmarks/search_plot/search_plot.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    params:
        # results/cache, taken from the inputs so that the path is written once.
        cache_dir=lambda wildcards, input: str(Path(input.cache[0]).parent.parent),
        size=CLASSIFIER_SIZE,
        splits=SEARCH_SPLITS,
    script:
        "../scripts/search_plot.py"
