rule aggregate_systematics:
    input:
        signal=lambda w: expand("results/{channel}/selected/{sample}.root", channel=w.channel, sample=signal_samples(w.channel)),
    output:
        csv=report("results/{channel}/systematics.csv", caption="../report/systematics.rst", category="{channel}", subcategory="systematics"),
        tex="results/{channel}/systematics.tex",
    log:
        "logs/{channel}/systematics.log",
    params:
        config=stage_config("aggregate_systematics"),
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/aggregate_systematics.py"
