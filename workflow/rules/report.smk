# Stage: report. Reads every stage's results and figures into one context
# (results/report/context.json) and renders it twice: a self-contained HTML file and a
# LaTeX file with its figures beside it, built into a PDF where latexmk is installed.
# The renders depend on the templates, so a template change reruns only them.
from lookbook.report.context import report_inputs

REPORT_INPUTS = report_inputs(config)
REPORT_FIGURES = {
    name: path for name, path in REPORT_INPUTS.items() if name.startswith("fig_")
}
REPO_ROOT = Path(workflow.main_snakefile).parent
REPORT_TEMPLATES_DIR = REPO_ROOT / "report" / "templates"
REPORT_HTML_TEMPLATES = sorted(
    str(path)
    for pattern in ("*.html.j2", "*.css")
    for path in REPORT_TEMPLATES_DIR.glob(pattern)
)
REPORT_TEX_TEMPLATES = sorted(
    str(path) for path in REPORT_TEMPLATES_DIR.glob("*.tex.j2")
)
REPORT_STUDY = str(REPO_ROOT / "report" / "study.yaml")
# The package code is an input too: Snakemake tracks a rule's script, not the modules
# it imports, and an edit to the context or the renderers must rebuild the report.
REPORT_CODE = sorted(
    str(path) for path in (REPO_ROOT / "src" / "lookbook" / "report").glob("*.py")
)


# Target that redraws changed figures and the report from the existing results. A job
# whose inputs, parameters and script are unchanged, such as training, does not rerun.
rule report:
    input:
        final_targets(),


rule provenance:
    input:
        summary="results/data/summary.json",
        manifest="results/data/manifest.json",
    output:
        "results/provenance/provenance.json",
    log:
        "results/logs/provenance/provenance.log",
    benchmark:
        "results/benchmarks/provenance/provenance.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    params:
        config=config,
        repo=str(REPO_ROOT),
    script:
        "../scripts/report_provenance.py"


rule report_context:
    input:
        **REPORT_INPUTS,
        study=REPORT_STUDY,
        code=REPORT_CODE,
    output:
        "results/report/context.json",
    log:
        "results/logs/report_context/report_context.log",
    benchmark:
        "results/benchmarks/report_context/report_context.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    params:
        config=config,
        inputs=REPORT_INPUTS,
        benchmarks="results/benchmarks",
    script:
        "../scripts/report_context.py"


rule report_html:
    input:
        REPORT_HTML_TEMPLATES,
        REPORT_CODE,
        **REPORT_FIGURES,
        context="results/report/context.json",
    output:
        report(
            "report/build/report.html",
            category="Report",
            caption="../report/report_html.rst",
        ),
    log:
        "results/logs/report_html/report_html.log",
    benchmark:
        "results/benchmarks/report_html/report_html.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/report_html.py"


rule report_tex:
    input:
        REPORT_TEX_TEMPLATES,
        REPORT_CODE,
        **REPORT_FIGURES,
        context="results/report/context.json",
    output:
        tex="report/build/report.tex",
        figures=directory("report/build/figures"),
        readme="report/build/README.txt",
    log:
        "results/logs/report_tex/report_tex.log",
    benchmark:
        "results/benchmarks/report_tex/report_tex.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/report_tex.py"


rule report_pdf:
    input:
        tex="report/build/report.tex",
        figures="report/build/figures",
    output:
        report(
            "report/build/report.pdf",
            category="Report",
            caption="../report/report_pdf.rst",
        ),
    log:
        "results/logs/report_pdf/report_pdf.log",
    benchmark:
        "results/benchmarks/report_pdf/report_pdf.tsv"
    conda:
        "../../environment.yml"
    threads: rule_resources("light")["threads"]
    resources:
        mem_mb=rule_resources("light")["mem_mb"],
        runtime=rule_resources("light")["runtime"],
        gpu=rule_resources("light")["gpu"],
    script:
        "../scripts/report_pdf.py"
