# Channel alp_gammagamma (Belle II, e+e- -> gamma a, a -> gamma gamma; PRL 125 (2020) 161806).
# The generic stages (generate, select, validate, systematics, fit, plots) build it from
# config/channels/alp_gammagamma.yaml; this rule set names its targets.


rule alp_gammagamma:
    input:
        channel_outputs("alp_gammagamma") if "alp_gammagamma" in CHANNELS else [],
    localrule: True
