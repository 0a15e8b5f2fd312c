"""``invoice-chaos explore``: search fault schedules for a failure, then shrink it.

- ``schedule``: a schedule is a plain scenario (its data, as YAML would hold it) whose faults
  are explicit; ``draw`` turns a scenario's fault mix (``random_faults``) into one.
- ``shrink``: the smaller schedules to try next (fewer faults, shorter windows, milder
  parameters, later starts, lower load, a shorter run), in that order.
- ``engine``: draw, run, replay, accept a smaller schedule only when it still fails in ``k`` of
  ``n`` replays (a black box is flaky: one failing run proves little), within a budget.
- ``output``: ``explore.json``, ``explore.md`` and ``minimal.yaml`` (a scenario anyone can run).
"""
