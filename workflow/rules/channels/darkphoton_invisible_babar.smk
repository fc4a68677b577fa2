# Channel darkphoton_invisible_babar (the single-photon search e+e- -> gamma A', A' -> invisible in
# BaBar's configuration, PRL 119 (2017) 131804). The generic stages build it from
# config/channels/darkphoton_invisible_babar.yaml with the variables of the plugin
# darkscan.channels.darkphoton_invisible; this rule set names its targets.


rule darkphoton_invisible_babar:
    input:
        channel_outputs("darkphoton_invisible_babar") if "darkphoton_invisible_babar" in CHANNELS else [],
    localrule: True
