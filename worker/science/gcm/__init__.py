"""Gaussian covariate model: spectrum (data model), channels (loss-specific), solver (iterator)."""
