"""Plugin module of the search ${name} (scaffolded by ``darkscan new-channel ${name}``).

Imported before any registry is read (:mod:`darkscan.plugins`). Register here what the search
needs beyond darkscan's built-in pieces, with the same functions the built-ins use:

* a generator: ``@register_process("...", description=..., max_mass=...)``
  (:mod:`darkscan.generate.registry`);
* the columns cut on: ``@register_variables("...", branches=(...), columns={...: Column(label, unit)})``
  (:mod:`darkscan.select.variables`);
* a theory model: ``register_model(Model(...))`` (:mod:`darkscan.physics.models`);
* a fit method: ``register_method(FitMethod(...))`` (:mod:`darkscan.stats.methods`; the built-in
  ones are its subpackages ``window_sidebands`` and ``ellipse_counting``);
* the config a rule of workflow/rules/channels/${name}.smk reads:
  ``register_stage("...", StageInputs(channel=(...)))`` (:mod:`darkscan.stage_inputs`).

As scaffolded the search uses built-in pieces only (config/channels/${name}.yaml), so nothing is
registered yet.
"""
