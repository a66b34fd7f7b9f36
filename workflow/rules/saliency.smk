# Stage: saliency. Guided-backpropagation maps of the main classifier on the test split:
# per-image examples, per-class averages, the focus on the product, and the
# weight-randomization sanity check against Grad-CAM. Compute rules write
# results/saliency/, plotting rules figures/saliency/.


SALIENCY_MODEL = f"results/classifier/{MAIN_ARCH}/best.pt"
SALIENCY_PREDICTIONS = f"results/classifier/{MAIN_ARCH}/predictions.tsv"
SALIENCY_TEST_CACHE = [
    f"results/cache/{CLASSIFIER_SIZE}/test.npy",
    f"results/cache/{CLASSIFIER_SIZE}/test.ids.tsv",
]


rule saliency:
    input:
        "figures/saliency/examples.png",
        "figures/saliency/class_average.png",
        "figures/saliency/focus.png",
        "figures/saliency/sanity.png",
        "figures/saliency/sanity_maps.png",


rule saliency_examples:
    input:
        model=SALIENCY_MODEL,
        predictions=SALIENCY_PREDICTIONS,
        cache=SALIENCY_TEST_CACHE,
    output:
        examples="results/saliency/examples.npz",
    log:
        "results/logs/saliency_examples/saliency_examples.log",
    benchmark:
        "results/benchmarks/saliency_examples/saliency_examples.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        size=CLASSIFIER_SIZE,
        per_class=config["saliency"]["examples_per_class"],
        batch_size=config["saliency"]["batch_size"],
    script:
        "../scripts/saliency_examples.py"


rule saliency_class_average:
    input:
        model=SALIENCY_MODEL,
        predictions=SALIENCY_PREDICTIONS,
        cache=SALIENCY_TEST_CACHE,
    output:
        class_average="results/saliency/class_average.npz",
        focus="results/saliency/focus.tsv",
        focus_per_image="results/saliency/focus_per_image.tsv",
    log:
        "results/logs/saliency_class_average/saliency_class_average.log",
    benchmark:
        "results/benchmarks/saliency_class_average/saliency_class_average.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        size=CLASSIFIER_SIZE,
        batch_size=config["saliency"]["batch_size"],
        background_threshold=config["saliency"]["background_threshold"],
    script:
        "../scripts/saliency_class_average.py"


rule saliency_sanity:
    input:
        model=SALIENCY_MODEL,
        predictions=SALIENCY_PREDICTIONS,
        cache=SALIENCY_TEST_CACHE,
    output:
        sanity="results/saliency/sanity.tsv",
        maps="results/saliency/sanity_maps.npz",
    log:
        "results/logs/saliency_sanity/saliency_sanity.log",
    benchmark:
        "results/benchmarks/saliency_sanity/saliency_sanity.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        size=CLASSIFIER_SIZE,
        images=config["saliency"]["sanity_images"],
        seed=config["saliency"]["sanity_seed"],
        batch_size=config["saliency"]["batch_size"],
    script:
        "../scripts/saliency_sanity.py"


rule saliency_plot:
    input:
        examples=rules.saliency_examples.output.examples,
        class_average=rules.saliency_class_average.output.class_average,
        focus_per_image=rules.saliency_class_average.output.focus_per_image,
        sanity=rules.saliency_sanity.output.sanity,
        sanity_maps=rules.saliency_sanity.output.maps,
    output:
        examples=report(
            "figures/saliency/examples.png",
            category="Guided backpropagation",
            caption="../report/saliency_examples.rst",
        ),
        class_average=report(
            "figures/saliency/class_average.png",
            category="Guided backpropagation",
            caption="../report/saliency_class_average.rst",
        ),
        focus=report(
            "figures/saliency/focus.png",
            category="Guided backpropagation",
            caption="../report/saliency_focus.rst",
        ),
        sanity=report(
            "figures/saliency/sanity.png",
            category="Guided backpropagation",
            caption="../report/saliency_sanity.rst",
        ),
        sanity_maps=report(
            "figures/saliency/sanity_maps.png",
            category="Guided backpropagation",
            caption="../report/saliency_sanity_maps.rst",
        ),
    log:
        "results/logs/saliency_plot/saliency_plot.log",
    benchmark:
        "results/benchmarks/saliency_plot/saliency_plot.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/saliency_plot.py"
