"""spam: an example package with a C extension (examples/package-setuptools)."""
from ._spam import scale

__all__ = ["scale"]
