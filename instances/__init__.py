"""The programs and benchmark sets shipped with the package (see optimizer/shipped.py)."""
