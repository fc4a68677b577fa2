rule aggregate_systematics:
    input:
        signal=lambda w: expand(
            "results/{channel}/selected/{sample}.root", channel=w.channel, sample=signal_samples(w.channel)
        ),
    output:
        csv=report(
            "results/{channel}/systematics.csv",
            caption="../report/systematics.rst",
            category="{channel}",
            subcategory="systematics",
        ),
        tex="results/{channel}/systematics.tex",
    log:
        "logs/{channel}/systematics.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        config=stage_config("aggregate_systematics"),
    script:
        "../scripts/aggregate_systematics.py"
