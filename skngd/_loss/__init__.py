"""The shared loss layer: links, families and the linear-model loss.

Registries resolve strings to objects; unknown names raise a ``ValueError``
listing the valid choices (:func:`get_link`, :func:`get_family`).
"""

from skngd._loss.family import Binomial, Family, Multinomial
from skngd._loss.glm_family import (
    Gamma,
    InverseGaussian,
    NegativeBinomial,
    Normal,
    Poisson,
    Tweedie,
)
from skngd._loss.link import LINKS, Link
from skngd.utils.validation import resolve_from_registry

# name -> factory; families with a parameter (tweedie power, negative-binomial
# dispersion alpha) take it as a keyword argument through get_family.
FAMILIES = {
    "normal": Normal,
    "binomial": Binomial,
    "poisson": Poisson,
    "gamma": Gamma,
    "inverse_gaussian": InverseGaussian,
    "tweedie": Tweedie,
    "negative_binomial": NegativeBinomial,
}


def get_link(link, power=None):
    """Resolve a link name or :class:`Link` instance (``power`` for 'power')."""
    if isinstance(link, Link):
        return link
    if link == "power":
        from skngd._loss.link import PowerLink

        return PowerLink(1.0 if power is None else power)
    return resolve_from_registry(link, LINKS, "link", base=Link)


def get_family(family, **params):
    """Resolve a family name or :class:`Family` instance.

    Keyword arguments whose value is not None are passed to the family's
    constructor (``power`` for 'tweedie', ``alpha`` for 'negative_binomial').
    """
    if isinstance(family, Family):
        return family
    params = {k: v for k, v in params.items() if v is not None}
    if isinstance(family, str) and family in FAMILIES and params:
        return FAMILIES[family](**params)
    return resolve_from_registry(family, FAMILIES, "family", base=Family)


__all__ = [
    "FAMILIES",
    "LINKS",
    "Binomial",
    "Family",
    "Gamma",
    "InverseGaussian",
    "Link",
    "Multinomial",
    "NegativeBinomial",
    "Normal",
    "Poisson",
    "Tweedie",
    "get_family",
    "get_link",
]
