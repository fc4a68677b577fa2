# data.root is the (pseudo-)data, never an MC sample.
ruleorder: data > generate_sample


rule generate_sample:
    output:
        sample="results/{channel}/samples/{sample}.root",
    log:
        "logs/{channel}/generate/{sample}.log",
    benchmark:
        "benchmarks/rules/{channel}/generate/{sample}.tsv"
    params:
        generation=generation_params,
        compression=CONFIG["compression"],
    group:
        "sample"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/generate_sample.py"


# Pseudo-data chunks need no MC sample (a pilot run sizes them): on a cluster they run
# alongside the MC generation.
rule pseudo_data_chunk:
    output:
        chunk=temp("results/{channel}/samples/data/{component}_{chunk}.root"),
    log:
        "logs/{channel}/generate/data_{component}_{chunk}.log",
    benchmark:
        "benchmarks/rules/{channel}/generate/data_{component}_{chunk}.tsv"
    wildcard_constraints:
        chunk=r"\d+",
    params:
        generation=data_params,
        n_chunks=lambda w: dsconfig.data_chunks(CONFIG, channel_cfg(w.channel)),
        compression=CONFIG["compression"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/pseudo_data_chunk.py"


rule data:
    input:
        chunks=data_inputs,
    output:
        data="results/{channel}/samples/data.root",
    log:
        "logs/{channel}/generate/data.log",
    params:
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
        "../scripts/data.py"
