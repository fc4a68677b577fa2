# Channel lfv_zprime (Belle II, e+e- -> e+- mu-+ Z', Z' -> invisible).
# The generic stages (generate, select, validate, systematics, fit, plots) build it from
# config/channels/lfv_zprime.yaml with the variables of the plugin
# darkscan.channels.lfv_zprime; this rule set names its targets.


rule lfv_zprime:
    input:
        channel_outputs("lfv_zprime") if "lfv_zprime" in CHANNELS else [],
    localrule: True
