"""The one analysis path: Numba kernels and the wrappers that turn parsed tracks into results."""
