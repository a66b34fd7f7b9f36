# Stage: DCGAN. One job per subset ({subset}: all or a class slug) trains on the 64 px
# cache; quality needs the trained classifier, so it is a separate rule, and the figures
# come from plotting rules that read the results.


GAN_CACHE = f"results/cache/{GAN_SIZE}"


# `snakemake gan` builds every DCGAN output the report reads.
rule gan:
    input:
        "results/gan/summary.tsv",
        expand(
            "figures/gan/{subset}/{figure}.png",
            subset=GAN_SUBSETS,
            figure=["grid", "losses", "neighbours"],
        ),


# checkpoint.pt is written but not declared: Snakemake deletes declared outputs before
# a job starts, which would throw away the state that a rerun resumes from.
rule gan_train:
    input:
        train=f"{GAN_CACHE}/train.npy",
        train_ids=f"{GAN_CACHE}/train.ids.tsv",
        test=f"{GAN_CACHE}/test.npy",
        test_ids=f"{GAN_CACHE}/test.ids.tsv",
    output:
        status="results/gan/{subset}/status.json",
        losses="results/gan/{subset}/losses.tsv",
        grids=directory("results/gan/{subset}/grids"),
        samples="results/gan/{subset}/samples.npy",
    log:
        "results/logs/gan_train/{subset}.log",
    benchmark:
        "results/benchmarks/gan_train/{subset}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("train")["threads"]
    resources:
        mem_mb=rule_resources("train")["mem_mb"],
        runtime=rule_resources("train")["runtime"],
        gpu=rule_resources("train")["gpu"],
    params:
        size=GAN_SIZE,
        classes=CLASSES,
        gan=config["gan"],
    script:
        "../scripts/gan_train.py"


rule gan_real_features:
    input:
        model=f"results/classifier/{MAIN_ARCH}/best.pt",
        train=f"{GAN_CACHE}/train.npy",
        train_ids=f"{GAN_CACHE}/train.ids.tsv",
        test=f"{GAN_CACHE}/test.npy",
        test_ids=f"{GAN_CACHE}/test.ids.tsv",
    output:
        "results/gan/real_features.npz",
    log:
        "results/logs/gan_real_features/gan_real_features.log",
    benchmark:
        "results/benchmarks/gan_real_features/gan_real_features.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        size=GAN_SIZE,
        batch_size=config["gan"]["eval_batch_size"],
    script:
        "../scripts/gan_real_features.py"


rule gan_quality:
    input:
        model=f"results/classifier/{MAIN_ARCH}/best.pt",
        real="results/gan/real_features.npz",
        status="results/gan/{subset}/status.json",
        samples="results/gan/{subset}/samples.npy",
    output:
        "results/gan/{subset}/quality.json",
    log:
        "results/logs/gan_quality/{subset}.log",
    benchmark:
        "results/benchmarks/gan_quality/{subset}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("gpu")["threads"]
    resources:
        mem_mb=rule_resources("gpu")["mem_mb"],
        runtime=rule_resources("gpu")["runtime"],
        gpu=rule_resources("gpu")["gpu"],
    params:
        classes=CLASSES,
        batch_size=config["gan"]["eval_batch_size"],
    script:
        "../scripts/gan_quality.py"


rule gan_summary:
    input:
        status=expand("results/gan/{subset}/status.json", subset=GAN_SUBSETS),
        quality=expand("results/gan/{subset}/quality.json", subset=GAN_SUBSETS),
    output:
        "results/gan/summary.tsv",
    log:
        "results/logs/gan_summary/gan_summary.log",
    benchmark:
        "results/benchmarks/gan_summary/gan_summary.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/gan_summary.py"


rule gan_plot_training:
    input:
        status="results/gan/{subset}/status.json",
        losses="results/gan/{subset}/losses.tsv",
        grids="results/gan/{subset}/grids",
    output:
        grid=report(
            "figures/gan/{subset}/grid.png",
            category="DCGAN",
            subcategory="{subset}",
            caption="../report/gan_grid.rst",
        ),
        losses=report(
            "figures/gan/{subset}/losses.png",
            category="DCGAN",
            subcategory="{subset}",
            caption="../report/gan_losses.rst",
        ),
    log:
        "results/logs/gan_plot_training/{subset}.log",
    benchmark:
        "results/benchmarks/gan_plot_training/{subset}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/gan_plot_training.py"


rule gan_plot_neighbours:
    input:
        quality="results/gan/{subset}/quality.json",
        samples="results/gan/{subset}/samples.npy",
        train=f"{GAN_CACHE}/train.npy",
    output:
        report(
            "figures/gan/{subset}/neighbours.png",
            category="DCGAN",
            subcategory="{subset}",
            caption="../report/gan_neighbours.rst",
        ),
    log:
        "results/logs/gan_plot_neighbours/{subset}.log",
    benchmark:
        "results/benchmarks/gan_plot_neighbours/{subset}.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/gan_plot_neighbours.py"
