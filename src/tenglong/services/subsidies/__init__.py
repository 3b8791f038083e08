"""subsidies."""
