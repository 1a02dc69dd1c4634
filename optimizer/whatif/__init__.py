"""Stage 6, what-if studies: derived programs and comparisons, sweeps, frontiers and
marginal values."""
