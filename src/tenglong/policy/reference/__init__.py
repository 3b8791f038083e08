"""Reference tables (towns, industries) shipped as package data."""
