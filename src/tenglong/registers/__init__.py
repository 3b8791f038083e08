"""The management domain (pure): roles, workflows, typed audit events."""
