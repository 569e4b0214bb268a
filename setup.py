"""Builds the plant's compiled kernels (sims/_kernels.c); the rest is in pyproject.toml.

The kernels are an accelerator, not a requirement: the extension is optional, so on a
machine without a C compiler (or the Python headers) the build warns and `pip install`
installs the pure-Python package, whose sims.compiled then runs the same kernels in numpy
(sims/kernels_numpy.py; `THERMINE_KERNELS=c|numpy` forces a path).

The build stamps the source's sha256 into the module, so :mod:`sims.compiled` can refuse
a module built from an older source (``make`` rebuilds it when the source changes).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "sims/_kernels.c"
SHA256 = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()

setup(ext_modules=[
    Extension("sims._kernels", [SOURCE], define_macros=[("KERNELS_SOURCE_SHA256", f'"{SHA256}"')],
              optional=True),
])
