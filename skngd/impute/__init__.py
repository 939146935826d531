"""Imputation of missing values by likelihood-based models."""

from skngd.impute._gaussian_em import GaussianEMImputer

__all__ = ["GaussianEMImputer"]
