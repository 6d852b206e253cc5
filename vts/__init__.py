"""vts: Vessel Traffic Service monitoring for the bay of Callao."""

from vts._compiled import check_compiled as _check_compiled

__version__ = "0.1.0"

# a compiled module older than its source is imported from source, with a warning (vts/_compiled.py)
_check_compiled()
