"""Driver plugins: the pluggy hook spec, the loader and one sub-package per CSP."""
