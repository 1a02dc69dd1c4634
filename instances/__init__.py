"""The programs and benchmark sets shipped with the package (see optimizer/program/shipped.py)."""
