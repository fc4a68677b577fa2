rule select_sample:
    input:
        sample="results/{channel}/samples/{sample}.root",
    output:
        selected="results/{channel}/selected/{sample}.root",
        cutflow="results/{channel}/cutflow/{sample}.csv",
    log:
        "logs/{channel}/select/{sample}.log",
    group:
        "sample"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=stage_config("select_sample"),
        compression=CONFIG["compression"],
    script:
        "../scripts/select_sample.py"


rule select_data_part:
    input:
        sample="results/{channel}/samples/data/{data_part}.root",
    output:
        selected=temp("results/{channel}/selected/data/{data_part}.root"),
        cutflow="results/{channel}/cutflow/data/{data_part}.csv",
    log:
        "logs/{channel}/select/data/{data_part}.log",
    wildcard_constraints:
        data_part=DATA_PART_PATTERN,
    group:
        "sample"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=stage_config("select_sample"),
        compression=CONFIG["compression"],
    script:
        "../scripts/select_sample.py"


# The selected parts of the data, concatenated: reads only what passed the preselection, so it
# runs on the submit host (no cluster job, and no job reads the whole dataset).
ruleorder: merge_data > select_sample


rule merge_data:
    input:
        selected=lambda w: data_parts(w.channel, "results/{channel}/selected/data/{part}.root"),
        cutflows=lambda w: data_parts(w.channel, "results/{channel}/cutflow/data/{part}.csv"),
    output:
        selected="results/{channel}/selected/data.root",
        cutflow="results/{channel}/cutflow/data.csv",
    log:
        "logs/{channel}/select/data.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        config=stage_config("merge_data"),
        compression=CONFIG["compression"],
    script:
        "../scripts/merge_data.py"


rule merge_cutflow:
    input:
        lambda w: cutflow_files(w.channel),
    output:
        report(
            "results/{channel}/cutflow.csv",
            caption="../report/cutflow.rst",
            category="{channel}",
            subcategory="selection",
        ),
    log:
        "logs/{channel}/cutflow.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        facts=report_facts,
    script:
        "../scripts/merge_cutflow.py"


rule fill_histograms:
    input:
        selected=lambda w: selected_files(w.channel, all_samples(w.channel)),
    output:
        histograms="results/{channel}/histograms.root",
    log:
        "logs/{channel}/histograms.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=stage_config("fill_histograms"),
        compression=CONFIG["compression"],
    script:
        "../scripts/fill_histograms.py"
