rule plot_limits:
    input:
        limits="results/{channel}/limits.csv",
        significance="results/{channel}/significance.json",
    output:
        xsec_png=report("results/{channel}/plots/limits_xsec.png", caption="../report/limits_xsec.rst", category="{channel}", subcategory="plots"),
        xsec_pdf="results/{channel}/plots/limits_xsec.pdf",
        coupling_png=report("results/{channel}/plots/limits_coupling.png", caption="../report/limits_coupling.rst", category="{channel}", subcategory="plots"),
        coupling_pdf="results/{channel}/plots/limits_coupling.pdf",
        significance_png=report("results/{channel}/plots/local_significance.png", caption="../report/local_significance.rst", category="{channel}", subcategory="plots"),
        significance_pdf="results/{channel}/plots/local_significance.pdf",
    log:
        "logs/{channel}/plots.log",
    params:
        config=stage_config("plot_limits"),
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/plot_limits.py"
