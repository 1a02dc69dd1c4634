"""Stage 1, the program: reading and validating a program file into an immutable
:class:`~optimizer.program.instance.Instance` (the format's vocabulary, the loader, the
shipped programs, the JSON Schema, the generators and converters)."""
