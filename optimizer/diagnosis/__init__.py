"""Stage 5, diagnosis: why a program is infeasible (elastic relaxation, the LP's IIS) and
the longer story of ``optimizer explain`` (arithmetic, the solve, the IIS)."""
