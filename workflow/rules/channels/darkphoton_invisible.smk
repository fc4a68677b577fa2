# Channel darkphoton_invisible (Belle II, e+e- -> gamma A', A' -> invisible: single photon).
# The generic stages (generate, select, validate, systematics, fit, plots) build it from
# config/channels/darkphoton_invisible.yaml with the variables of the plugin
# darkscan.channels.darkphoton_invisible; this rule set names its targets.


rule darkphoton_invisible:
    input:
        channel_outputs("darkphoton_invisible") if "darkphoton_invisible" in CHANNELS else [],
    localrule: True
