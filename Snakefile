# lookbook: wiring only. Each stage lives in workflow/rules/<stage>.smk.


configfile: "config.yaml"


include: "workflow/rules/common.smk"


wildcard_constraints:
    arch="|".join(ARCH_CHOICES),
    subset="|".join(GAN_SUBSETS),
    size=r"\d+",
    split="train|val|test",


rule all:
    default_target: True
    input:
        final_targets(),


include: "workflow/rules/fetch.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/classifier.smk"
include: "workflow/rules/saliency.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/report.smk"
