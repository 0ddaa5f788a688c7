"""Rules: triggers, run inside the ticket-change pipeline at ``Stage.automation``, and
time-based automations, run by the worker's ``automation-sweep`` job (``sweep``).

This package is the pure core, with no database and no API: the rule language
(``conditions``), the snapshot rules are evaluated against (``facts``), what actions would
change (``actions``), why a rule did or did not match (``explain``), and the order triggers
fire in (``engine``). Storage, the ``/v1/triggers`` API and the pipeline reaction build on it.
"""
