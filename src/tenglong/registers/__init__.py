"""The management domain (pure): roles (``roles.py``), the workflow engine (``workflow.py``) with the
platform's loops as data (``workflows/*.yaml``), and typed audit events (``events.py``)."""
