# Seconds-long (at most 18 s per channel in the full default rebuild, benchmarks/RESULTS.md):
# like the plots it runs on the submit host, not as a cluster job.
rule render_validation:
    input:
        selected=lambda w: selected_files(w.channel, all_samples(w.channel)),
        cutflow="results/{channel}/cutflow.csv",
        histograms="results/{channel}/histograms.root",
        limits="results/{channel}/limits.csv",
        significance="results/{channel}/significance.json",
        calibration="results/{channel}/calibration.json",
        calibration_plot="results/{channel}/plots/calibration.png",
        mva=lambda w: [f"results/{w.channel}/mva/working_points.json"] if uses_mva(w.channel) else [],
        control=control_sample_files,
        notebook="notebooks/validation.ipynb",
    output:
        notebook="results/{channel}/validation.ipynb",
        html=report(
            "results/{channel}/validation.html",
            caption="../report/validation.rst",
            category="{channel}",
            subcategory="validation",
        ),
    log:
        "logs/{channel}/validation.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        config=stage_config("render_validation"),
        facts=report_facts,
        results=lambda w: f"results/{w.channel}",
        samples=lambda w: all_samples(w.channel),
    script:
        "../scripts/render_validation.py"
