# Stage: classifier. Trains each architecture in ARCHS (the main one plus
# classifier.compare) with the same recipe, evaluates it on the test split, draws the
# study's figures and tabulates the comparison.


from lookbook.classifier import workflow as classifier_workflow

try:
    classifier_workflow.check_weights_config(config, ARCHS)
except classifier_workflow.WeightsConfigError as error:
    raise WorkflowError(str(error))

IMAGENET_WEIGHTS_FILES = classifier_workflow.hub_weights_files(config, ARCHS)


if IMAGENET_WEIGHTS_FILES:

    # Downloads need a network, which compute nodes often lack: run on the login node.
    localrules:
        fetch_weights,

    rule fetch_weights:
        output:
            IMAGENET_WEIGHTS_FILES,
        log:
            "results/logs/fetch_weights/fetch_weights.log",
        benchmark:
            "results/benchmarks/fetch_weights/fetch_weights.tsv"
        conda:
            "../../environment.yml"
        threads: rule_resources("light")["threads"]
        resources:
            mem_mb=rule_resources("light")["mem_mb"],
            runtime=rule_resources("light")["runtime"],
            gpu=rule_resources("light")["gpu"],
        params:
            archs=ARCHS,
        script:
            "../scripts/classifier_fetch_weights.py"


rule train_classifier:
    input:
        train=f"results/cache/{CLASSIFIER_SIZE}/train.npy",
        train_ids=f"results/cache/{CLASSIFIER_SIZE}/train.ids.tsv",
        val=f"results/cache/{CLASSIFIER_SIZE}/val.npy",
        val_ids=f"results/cache/{CLASSIFIER_SIZE}/val.ids.tsv",
        weights=lambda wildcards: classifier_workflow.weights_input(
            config, wildcards.arch
        ),
    output:
        # checkpoint.pt in the same directory is left undeclared on purpose: Snakemake
        # deletes the outputs of a failed job, and the checkpoint must survive to resume.
        model="results/classifier/{arch}/best.pt",
        metrics="results/classifier/{arch}/metrics.tsv",
    log:
        "results/logs/train_classifier/{arch}.log",
    benchmark:
        "results/benchmarks/train_classifier/{arch}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("train")["threads"]
    resources:
        mem_mb=rule_resources("train")["mem_mb"],
        runtime=rule_resources("train")["runtime"],
        gpu=rule_resources("train")["gpu"],
    params:
        config=lambda wildcards: classifier_workflow.run_config(config, wildcards.arch),
        classes=CLASSES,
    script:
        "../scripts/classifier_train.py"


rule evaluate_classifier:
    input:
        model="results/classifier/{arch}/best.pt",
        metrics="results/classifier/{arch}/metrics.tsv",
        test=f"results/cache/{CLASSIFIER_SIZE}/test.npy",
        test_ids=f"results/cache/{CLASSIFIER_SIZE}/test.ids.tsv",
    output:
        evaluation="results/classifier/{arch}/evaluation.json",
        predictions="results/classifier/{arch}/predictions.tsv",
    log:
        "results/logs/evaluate_classifier/{arch}.log",
    benchmark:
        "results/benchmarks/evaluate_classifier/{arch}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        batch_size=config["classifier"]["batch_size"],
    script:
        "../scripts/classifier_evaluate.py"


rule plot_classifier:
    input:
        metrics="results/classifier/{arch}/metrics.tsv",
        evaluation="results/classifier/{arch}/evaluation.json",
        predictions="results/classifier/{arch}/predictions.tsv",
        train_ids=f"results/cache/{CLASSIFIER_SIZE}/train.ids.tsv",
        test=f"results/cache/{CLASSIFIER_SIZE}/test.npy",
        test_ids=f"results/cache/{CLASSIFIER_SIZE}/test.ids.tsv",
    output:
        curves=report(
            "figures/classifier/{arch}/curves.png",
            category="Classifier",
            subcategory="{arch}",
            caption="../report/classifier_curves.rst",
        ),
        distribution=report(
            "figures/classifier/{arch}/distribution.png",
            category="Classifier",
            subcategory="{arch}",
            caption="../report/classifier_distribution.rst",
        ),
        confusion=report(
            "figures/classifier/{arch}/confusion.png",
            category="Classifier",
            subcategory="{arch}",
            caption="../report/classifier_confusion.rst",
        ),
        misclassified=report(
            "figures/classifier/{arch}/misclassified.png",
            category="Classifier",
            subcategory="{arch}",
            caption="../report/classifier_misclassified.rst",
        ),
    log:
        "results/logs/plot_classifier/{arch}.log",
    benchmark:
        "results/benchmarks/plot_classifier/{arch}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    params:
        max_misclassified=24,
    script:
        "../scripts/classifier_plot.py"


rule compare_classifiers:
    input:
        evaluations=expand("results/classifier/{arch}/evaluation.json", arch=ARCHS),
    output:
        "results/classifier/comparison.tsv",
    log:
        "results/logs/compare_classifiers/compare_classifiers.log",
    benchmark:
        "results/benchmarks/compare_classifiers/compare_classifiers.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    params:
        archs=ARCHS,
    script:
        "../scripts/classifier_compare.py"
