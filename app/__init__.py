"""batchq's service: the web application, and what the workers run inside it.

``app.create_app`` (defined in ``app.factory``) builds the application; gunicorn
(``app:create_app()``), the ``flask --app app`` command line and the workers reach it by that
name. It is loaded on first use rather than here, so that importing one module of the
package (a leaf such as ``app.config`` or ``app.backoff``, used by the ``batchq`` command line
too) does not load the whole web stack.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        # Deferred on purpose (see the module docstring): the factory imports every layer.
        from app.factory import create_app
        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
