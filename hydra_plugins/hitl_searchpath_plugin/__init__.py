"""Hydra plugin: hitl's config groups on every app's search path (see ``hitl_searchpath_plugin.py``)."""
