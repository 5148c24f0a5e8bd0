"""The per-page chain ingest -> boilerplate -> duplicates -> classify, run by any engine.

- :mod:`~newsaudit.pipeline.reference`: ``annotate_*``, the in-memory reference of each step
  (the boilerplate and leakage stages, tests, benchmarks, notebooks).
- :mod:`~newsaudit.pipeline.audit`: :func:`~newsaudit.pipeline.audit.audit`, the whole chain on
  any corpus, file to file, for ``newsaudit audit`` and the benchmarks; its output folder
  (:mod:`~newsaudit.pipeline.outdir`) and how a killed audit resumes
  (:mod:`~newsaudit.pipeline.resume`).

Steps reach an engine only through :func:`newsaudit.engines.dispatch.run_step`; stage modules
choose the engine (``execution`` in params.yaml, or ``--engine``) and the paths.
"""
