"""Stage 4, the result: the immutable answer of a solve and its renderings."""

from optimizer.results.result import (  # noqa: F401
    EXIT_CODES,
    Conflict,
    Result,
    atomic_write,
    build_result,
    check_not_inputs,
    check_output,
    check_output_dir,
    current_umask,
    write_errors,
)
