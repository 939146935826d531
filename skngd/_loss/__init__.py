"""The shared loss layer: links, families and the linear-model loss.

Registries resolve strings to objects; unknown names raise a ``ValueError``
listing the valid choices (:func:`get_link`, :func:`get_family`).
"""

from skngd._loss.family import Binomial, Family, Multinomial
from skngd._loss.link import LINKS, Link
from skngd.utils.validation import resolve_from_registry

# name -> factory taking no arguments; families with a parameter (tweedie power,
# negative-binomial dispersion) are built by get_family from keyword arguments.
FAMILIES = {
    "binomial": Binomial,
}


def get_link(link, power=None):
    """Resolve a link name or :class:`Link` instance."""
    if isinstance(link, Link):
        return link
    if link == "power":
        from skngd._loss.link import PowerLink

        return PowerLink(1.0 if power is None else power)
    return resolve_from_registry(link, LINKS, "link", base=Link)


def get_family(family, **params):
    """Resolve a family name or :class:`Family` instance."""
    if isinstance(family, Family):
        return family
    if isinstance(family, str) and family in FAMILIES and params:
        return FAMILIES[family](**params)
    return resolve_from_registry(family, FAMILIES, "family", base=Family)


__all__ = [
    "FAMILIES",
    "LINKS",
    "Binomial",
    "Family",
    "Link",
    "Multinomial",
    "get_family",
    "get_link",
]
