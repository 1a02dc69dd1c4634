"""Stage 3, the solver boundary: the model to HiGHS and HiGHS's answer back
(:mod:`optimizer.solving.highs`), and the search strategies around it
(:mod:`optimizer.solving.heuristics`). The checked solve that runs every stage in turn is
:mod:`optimizer.pipeline`."""
