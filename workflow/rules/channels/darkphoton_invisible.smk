# Channel darkphoton_invisible: scaffolded by `darkscan new-channel darkphoton_invisible`. The generic stages
# (generate, select, validate, systematics, fit, plots) build it from
# config/channels/darkphoton_invisible.yaml; add rules here for anything specific to this search.


rule darkphoton_invisible:
    input:
        channel_outputs("darkphoton_invisible") if "darkphoton_invisible" in CHANNELS else [],
    localrule: True
