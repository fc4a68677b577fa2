# The MVA selection (darkscan.mva) of channels with an `mva` section: trained on one selected MC
# event in `training_every`, applied to every sample as the last cut (workflow outputs under
# results/{channel}/mva/). Channels without it never reach these rules.


rule train_mva:
    input:
        signal=lambda w: expand(
            "results/{channel}/selected/{sample}.root", channel=w.channel, sample=signal_samples(w.channel)
        ),
        backgrounds=lambda w: expand(
            "results/{channel}/selected/{sample}.root", channel=w.channel, sample=background_samples(w.channel)
        ),
    output:
        models=directory("results/{channel}/mva/models"),
        working_points="results/{channel}/mva/working_points.json",
    log:
        "logs/{channel}/mva/train.log",
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=stage_config("train_mva"),
        seed=CONFIG["seed"],
        signal_samples=lambda w: signal_samples(w.channel),
        background_samples=lambda w: background_samples(w.channel),
    script:
        "../scripts/train_mva.py"


rule apply_mva:
    input:
        selected="results/{channel}/selected/{sample}.root",
        cutflow="results/{channel}/cutflow/{sample}.csv",
        models="results/{channel}/mva/models",
        working_points="results/{channel}/mva/working_points.json",
    output:
        selected="results/{channel}/mva/selected/{sample}.root",
        cutflow="results/{channel}/mva/cutflow/{sample}.csv",
    log:
        "logs/{channel}/mva/apply/{sample}.log",
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=stage_config("apply_mva"),
        compression=CONFIG["compression"],
    script:
        "../scripts/apply_mva.py"


rule measure_control_samples:
    input:
        backgrounds=lambda w: selected_files(w.channel, background_samples(w.channel)),
        data="results/{channel}/mva/selected/data.root",
    output:
        control="results/{channel}/mva/control_samples.json",
    log:
        "logs/{channel}/mva/control_samples.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        config=stage_config("measure_control_samples"),
        background_samples=lambda w: background_samples(w.channel),
    script:
        "../scripts/measure_control_samples.py"
