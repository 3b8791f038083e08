"""Synthetic demo data: a plausible Linhai to run the evaluation and registers on.

Nothing here is real data. :func:`tenglong.demo.county.generate_county` builds one
row per enterprise-year, calibrated to Linhai's published targets.
"""

from tenglong.demo.county import generate_county, generate_county_with_defects

__all__ = ["generate_county", "generate_county_with_defects"]
