"""The integer identity of every family and link: the one table.

The Numba kernels switch on these codes (they hold no Python objects), and
the family and link objects of :mod:`skngd._loss` take their ``code`` from
here by name (:meth:`skngd._loss.family.Family.__init_subclass__`,
:meth:`skngd._loss.link.Link.__init_subclass__`), so no table is copied
anywhere else. The module lives at the kernel layer, the lowest one that
needs it (see the import contract in ``pyproject.toml``), and imports nothing
so that reading a code never loads Numba.

Adding a family or link to the kernels means one entry here and one branch
in :mod:`skngd._kernels.glm`; a family or link that has no entry gets code
``-1`` and runs on the NumPy path only.
"""

#: family name -> code of :mod:`skngd._kernels.glm`'s family branches
FAMILY_CODES = {
    "normal": 0,
    "binomial": 1,
    "poisson": 2,
    "gamma": 3,
    "inverse_gaussian": 4,
    "tweedie": 5,
    "negative_binomial": 6,
    # the softmax loss of skngd._kernels.logistic (no GLM kernel branch)
    "multinomial": 100,
}

#: link name -> code of :mod:`skngd._kernels.glm`'s link branches
LINK_CODES = {
    "identity": 0,
    "log": 1,
    "logit": 2,
    "probit": 3,
    "cloglog": 4,
    "inverse": 5,
    "inverse_squared": 6,
    "power": 7,
}

#: code of a family or link the kernels do not know
UNKNOWN = -1


def family_code(name):
    """Kernel code of the family called ``name`` (``UNKNOWN`` if none)."""
    return FAMILY_CODES.get(name, UNKNOWN)


def link_code(name):
    """Kernel code of the link called ``name`` (``UNKNOWN`` if none)."""
    return LINK_CODES.get(name, UNKNOWN)
