"""The size and nesting limits of the files a program is read from.

The loader (:mod:`optimizer.program.loading`) reads a program file and its CSV tables
within these limits, and ``docs/format.md``'s table of limits is generated from them
(:func:`optimizer.program.vocabulary.limits_markdown`). This module imports nothing.
"""

from __future__ import annotations

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_TABLE_BYTES", "MAX_DOCUMENT_VALUES",
           "MAX_DOCUMENT_DEPTH", "MAX_INTEGER_DIGITS"]

#: Size limits: a program file (YAML or JSON) and each CSV table it names. A table at
#: the limit holds several million rows; a program file holds limits, not data.
MAX_DOCUMENT_BYTES = 256 * 2**20
MAX_TABLE_BYTES = 2 * 2**30
#: The most values a YAML document may expand to through its aliases.
MAX_DOCUMENT_VALUES = 20_000_000
#: The deepest a program document may nest mappings and lists within each other (the
#: format itself needs 4: program, sectors, a sector, its limits; x_ metadata may use the
#: rest). Deeper documents are refused, naming the line: every reader of a document walks
#: it, and Python's own recursion stops near 1,000 levels.
MAX_DOCUMENT_DEPTH = 64
#: An integer literal with more digits than this is beyond every bound of the format
#: (and near the end of the floating-point range, 1.8e308): it is read as a marker the
#: validator refuses by name, never converted (Python refuses to convert more than 4,300
#: digits, and a float cannot hold more than 308).
MAX_INTEGER_DIGITS = 300
