rule scan_part:
    input:
        signal=lambda w: selected_files(w.channel, signal_samples(w.channel)),
        histograms="results/{channel}/histograms.root",
        systematics="results/{channel}/systematics.csv",
    output:
        limits="results/{channel}/scan/part{part}.csv",
        workspaces=directory("results/{channel}/workspaces/part{part}"),
    log:
        "logs/{channel}/scan/part{part}.log",
    benchmark:
        "benchmarks/rules/{channel}/scan/part{part}.tsv"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=stage_config("scan_part"),
        n_parts=len(SCAN_PARTS),
        seed=CONFIG["seed"],
    script:
        "../scripts/scan_part.py"


rule merge_limits:
    input:
        parts=lambda w: expand("results/{channel}/scan/part{part}.csv", channel=w.channel, part=SCAN_PARTS),
    output:
        limits=report(
            "results/{channel}/limits.csv", caption="../report/limits.rst", category="{channel}", subcategory="limits"
        ),
    log:
        "logs/{channel}/limits.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        config=stage_config("merge_limits"),
        facts=report_facts,
    script:
        "../scripts/merge_limits.py"


rule compute_significance:
    input:
        limits="results/{channel}/limits.csv",
        histograms="results/{channel}/histograms.root",
        workspaces=lambda w: expand("results/{channel}/workspaces/part{part}", channel=w.channel, part=SCAN_PARTS),
        backgrounds=lambda w: selected_files(w.channel, list(channel_cfg(w.channel)["backgrounds"])),
    output:
        significance=report(
            "results/{channel}/significance.json",
            caption="../report/significance.rst",
            category="{channel}",
            subcategory="limits",
        ),
    log:
        "logs/{channel}/significance.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        config=stage_config("compute_significance"),
        facts=report_facts,
        seed=CONFIG["seed"],
    script:
        "../scripts/compute_significance.py"


# Pseudo-experiments through the scan (darkscan.stats.calibration): background-only ensemble
# (z_local_max, global p-values, band coverage) and signal injection (bias, pulls, coverage).
# Fails, naming the figure, when a target is missed (calibration.enforce).
rule calibrate_scan:
    input:
        limits="results/{channel}/limits.csv",
        significance="results/{channel}/significance.json",
        histograms="results/{channel}/histograms.root",
        systematics="results/{channel}/systematics.csv",
        workspaces=lambda w: expand("results/{channel}/workspaces/part{part}", channel=w.channel, part=SCAN_PARTS),
        backgrounds=lambda w: selected_files(w.channel, list(channel_cfg(w.channel)["backgrounds"])),
    output:
        calibration=report(
            "results/{channel}/calibration.json",
            caption="../report/calibration.rst",
            category="{channel}",
            subcategory="calibration",
        ),
        plots=report(
            expand("results/{{channel}}/plots/calibration.{ext}", ext=("png", "pdf")),
            caption="../report/calibration.rst",
            category="{channel}",
            subcategory="calibration",
        ),
    log:
        "logs/{channel}/calibration.log",
    benchmark:
        "benchmarks/rules/{channel}/calibration.tsv"
    conda:
        "../../envs/darkscan.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=stage_config("calibrate_scan"),
        facts=report_facts,
        seed=CONFIG["seed"],
    script:
        "../scripts/calibrate_scan.py"
