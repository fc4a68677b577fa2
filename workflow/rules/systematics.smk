rule aggregate_systematics:
    input:
        signal=lambda w: selected_files(w.channel, signal_samples(w.channel)),
        control=lambda w: (
            [f"results/{w.channel}/mva/control_samples.json"] if channel_cfg(w.channel).get("control_samples") else []
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
