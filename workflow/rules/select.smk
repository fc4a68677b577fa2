rule select_sample:
    input:
        sample="results/{channel}/samples/{sample}.root",
    output:
        selected="results/{channel}/selected/{sample}.root",
        cutflow=temp("results/{channel}/cutflow/{sample}.csv"),
    log:
        "logs/{channel}/select/{sample}.log",
    params:
        selection=selection_params,
        compression=CONFIG["compression"],
    group:
        "sample"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/select_sample.py"


rule cutflow:
    input:
        lambda w: expand("results/{channel}/cutflow/{sample}.csv", channel=w.channel, sample=all_samples(w.channel)),
    output:
        report("results/{channel}/cutflow.csv", caption="../report/cutflow.rst", category="{channel}", subcategory="selection"),
    log:
        "logs/{channel}/cutflow.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/merge_cutflow.py"


rule histograms:
    input:
        selected=lambda w: expand("results/{channel}/selected/{sample}.root", channel=w.channel, sample=all_samples(w.channel)),
    output:
        histograms="results/{channel}/histograms.root",
    log:
        "logs/{channel}/histograms.log",
    params:
        fit=fit_params,
        compression=CONFIG["compression"],
    localrule: True
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/histograms.py"
