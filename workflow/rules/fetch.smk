# Downloads. They are local rules: they run on the login node, which is online, while
# cluster compute nodes often are not.


# download_kaggle exists only while data_dir lacks styles.csv. Once the data is there,
# no rule claims it as output, so `snakemake --delete-all-output` never deletes it.
# Only styles.csv is declared, because Snakemake deletes a declared directory output
# before the job starts and a user's partial images/ must survive; the data stage
# depends on styles.csv alone.
if config["data_dir"] and not (Path(config["data_dir"]) / "styles.csv").exists():

    localrules:
        download_kaggle,

    rule download_kaggle:
        output:
            styles=str(Path(config["data_dir"]) / "styles.csv"),
        log:
            "results/logs/download_kaggle/download_kaggle.log",
        benchmark:
            "results/benchmarks/download_kaggle/download_kaggle.tsv"
        conda:
            "../../environment.yml"
        threads: rule_resources("light")["threads"]
        resources:
            mem_mb=rule_resources("light")["mem_mb"],
            runtime=rule_resources("light")["runtime"],
            gpu=rule_resources("light")["gpu"],
        params:
            dataset=config["download"]["dataset"],
        script:
            "../scripts/fetch_kaggle.py"
