"""eggs: an example package with a C extension built by meson (examples/package-meson)."""
from ._eggs import count

__all__ = ["count"]
