"""vts: Vessel Traffic Service monitoring for the bay of Callao."""

__version__ = "0.1.0"
