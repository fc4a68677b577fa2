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


rule select_data_part:
    input:
        sample="results/{channel}/samples/data/{data_part}.root",
    output:
        selected=temp("results/{channel}/selected/data/{data_part}.root"),
        cutflow=temp("results/{channel}/cutflow/data/{data_part}.csv"),
    log:
        "logs/{channel}/select/data/{data_part}.log",
    wildcard_constraints:
        data_part=DATA_PART_PATTERN,
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


# The selected parts of the data, concatenated: reads only what passed the preselection, so it
# runs on the submit host (no cluster job, and no job reads the whole dataset).
ruleorder: data > select_sample


rule data:
    input:
        selected=lambda w: data_parts(w.channel, "results/{channel}/selected/data/{part}.root"),
        cutflows=lambda w: data_parts(w.channel, "results/{channel}/cutflow/data/{part}.csv"),
    output:
        selected="results/{channel}/selected/data.root",
        cutflow=temp("results/{channel}/cutflow/data.csv"),
    log:
        "logs/{channel}/select/data.log",
    params:
        compression=CONFIG["compression"],
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/data.py"


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
