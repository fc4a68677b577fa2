rule systematics:
    input:
        signal=lambda w: expand("results/{channel}/selected/{sample}.root", channel=w.channel, sample=signal_samples(w.channel)),
    output:
        csv=report("results/{channel}/systematics.csv", caption="../report/systematics.rst", category="{channel}", subcategory="systematics"),
        tex="results/{channel}/systematics.tex",
    log:
        "logs/{channel}/systematics.log",
    params:
        systematics=lambda w: channel_cfg(w.channel)["systematics"],
        experiment=lambda w: experiment_cfg(w.channel).get("systematics", {}),
        fit=fit_params,  # derived sources depend on the signal model of the fit method
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/systematics.py"
