# Stage: data. From a directory in the Kaggle layout (or the generated demo dataset)
# to cleaned labels, exclusions, a split manifest and the decoded image cache.


if not config["data_dir"]:

    rule data_demo:
        output:
            styles="results/demo-data/styles.csv",
            images=directory("results/demo-data/images"),
            defects="results/demo-data/planted_defects.json",
        log:
            "results/logs/data_demo/data_demo.log",
        benchmark:
            "results/benchmarks/data_demo/data_demo.tsv"
        conda:
            "../../environment.yml"
        threads: rule_resources("light")["threads"]
        resources:
            **job_resources("light"),
        params:
            n_images=config["demo"]["n_images"],
            seed=config["demo"]["seed"],
        script:
            "../scripts/data_demo.py"


# Decodes every labelled image once, in parallel, into all.npy per size; all.npy is
# temporary because the per-split arrays hold the same rows.
rule data_decode:
    input:
        unpack(data_dir_inputs),
    output:
        clean="results/data/styles_clean.tsv",
        exclusions="results/data/exclusions.tsv",
        counts="results/data/exclusion_counts.tsv",
        audit="results/data/image_audit.tsv",
        summary="results/data/summary.json",
        ids="results/cache/all.ids.tsv",
        arrays=temp(expand("results/cache/{size}/all.npy", size=CACHE_SIZES)),
    log:
        "results/logs/data_decode/data_decode.log",
    benchmark:
        "results/benchmarks/data_decode/data_decode.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("parallel")["threads"]
    resources:
        **job_resources("parallel"),
    params:
        data_dir=data_dir(),
        scheme=config["labels"]["scheme"],
        sizes=CACHE_SIZES,
        resize=config["cache"]["resize"],
    script:
        "../scripts/data_decode.py"


rule data_split:
    input:
        clean="results/data/styles_clean.tsv",
    output:
        manifest="results/data/manifest.tsv",
        manifest_json="results/data/manifest.json",
        class_counts="results/data/class_counts.tsv",
    log:
        "results/logs/data_split/data_split.log",
    benchmark:
        "results/benchmarks/data_split/data_split.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        scheme=config["labels"]["scheme"],
        shares={name: config["split"][name] for name in ("train", "val", "test")},
        seed=config["split"]["seed"],
    script:
        "../scripts/data_split.py"


rule data_cache:
    input:
        array="results/cache/{size}/all.npy",
        ids="results/cache/all.ids.tsv",
        manifest="results/data/manifest.tsv",
        manifest_json="results/data/manifest.json",
    output:
        arrays=expand(
            "results/cache/{{size}}/{split}.npy", split=["train", "val", "test"]
        ),
        ids=expand(
            "results/cache/{{size}}/{split}.ids.tsv", split=["train", "val", "test"]
        ),
        meta="results/cache/{size}/meta.json",
    log:
        "results/logs/data_cache/{size}.log",
    benchmark:
        "results/benchmarks/data_cache/{size}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        resize=config["cache"]["resize"],
    script:
        "../scripts/data_cache.py"


rule data_plot_classes:
    input:
        class_counts="results/data/class_counts.tsv",
    output:
        overall=report(
            "figures/data/class_distribution.png",
            category="Data",
            caption="../report/data_class_distribution.rst",
        ),
        splits=report(
            "figures/data/class_distribution_splits.png",
            category="Data",
            caption="../report/data_class_distribution_splits.rst",
        ),
    log:
        "results/logs/data_plot_classes/data_plot_classes.log",
    benchmark:
        "results/benchmarks/data_plot_classes/data_plot_classes.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        **job_resources("light"),
    script:
        "../scripts/data_plot_classes.py"


rule data:
    input:
        "results/data/manifest.tsv",
        "results/data/exclusion_counts.tsv",
        "results/data/summary.json",
        "figures/data/class_distribution.png",
        "figures/data/class_distribution_splits.png",
        expand(
            "results/cache/{size}/{split}.npy",
            size=CACHE_SIZES,
            split=["train", "val", "test"],
        ),
        expand("results/cache/{size}/meta.json", size=CACHE_SIZES),
