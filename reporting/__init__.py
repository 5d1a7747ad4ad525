"""What a run writes for people: the output catalog, Markdown tables (pipelines and evaluation)."""
