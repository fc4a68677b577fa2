rule generate_sample:
    output:
        sample="results/{channel}/samples/{sample}.root",
    log:
        "logs/{channel}/generate/{sample}.log",
    benchmark:
        "benchmarks/rules/{channel}/generate/{sample}.tsv"
    group:
        "sample"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=stage_config("generate_sample"),
        globals=generation_globals,
    script:
        "../scripts/generate_sample.py"


# The data come in parts, each selected in the same cluster job that made it (group `sample`,
# see select.smk): pseudo-data chunks (a slice of the luminosity with every process, like a run
# of real data), or the channel's own ROOT files imported one per job. Pseudo-data chunks need no
# MC sample (a pilot run sizes each process): on a cluster they run alongside the MC generation.
rule pseudo_data_chunk:
    output:
        chunk="results/{channel}/samples/data/chunk{chunk}.root",
    log:
        "logs/{channel}/generate/data_chunk{chunk}.log",
    benchmark:
        "benchmarks/rules/{channel}/generate/data_chunk{chunk}.tsv"
    wildcard_constraints:
        chunk=r"\d+",
    group:
        "sample"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=stage_config("pseudo_data_chunk"),
        globals=generation_globals,
        n_chunks=n_data_chunks,
    script:
        "../scripts/pseudo_data_chunk.py"


rule import_data_file:
    input:
        data_file,
    output:
        part="results/{channel}/samples/data/file{index}.root",
    log:
        "logs/{channel}/generate/data_file{index}.log",
    wildcard_constraints:
        index=r"\d+",
    group:
        "sample"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=stage_config("import_data_file"),
        compression=CONFIG["compression"],
    script:
        "../scripts/import_data_file.py"
