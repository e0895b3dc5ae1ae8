"""germinate: a task description and a few seed examples in, a small fine-tuned expert out.

Plugin authors import one name from here: ``hookimpl``, the marker for hook implementations.
The hook specifications themselves live in :mod:`germinate.hookspecs`.
"""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("germinate")

__all__ = ["hookimpl", "__version__"]
