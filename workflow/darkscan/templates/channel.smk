# Channel ${name}: scaffolded by `darkscan new-channel ${name}`. The generic stages
# (generate, select, validate, systematics, fit, plots) build it from
# config/channels/${name}.yaml; add rules here for anything specific to this search.


rule ${name}:
    input:
        channel_outputs("${name}") if "${name}" in CHANNELS else [],
    localrule: True
