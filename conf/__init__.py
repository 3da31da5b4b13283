"""hitl's config groups; installed as the package ``hitl.conf``, so any Hydra app finds them at ``pkg://hitl.conf``."""
