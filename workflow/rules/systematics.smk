rule aggregate_systematics:
    input:
        signal=lambda w: selected_files(w.channel, signal_samples(w.channel)),
        control=control_sample_files,
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
        facts=report_facts,
    script:
        "../scripts/aggregate_systematics.py"
