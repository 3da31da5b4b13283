"""An app of its own that uses hitl: people rate how readable a label's colours are."""
