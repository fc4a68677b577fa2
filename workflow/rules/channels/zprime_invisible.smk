# Channel zprime_invisible (Belle II, e+e- -> mu+ mu- Z', Z' -> invisible).
# The generic stages (generate, select, validate, systematics, fit, plots) build it from
# config/channels/zprime_invisible.yaml; this rule set names its targets.


rule zprime_invisible:
    input:
        channel_outputs("zprime_invisible") if "zprime_invisible" in CHANNELS else [],
    localrule: True
