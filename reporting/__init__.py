"""What a run writes for people: the run report, the planners' list files (xlsx, csv, json, html),
estimates and audit files, figures and Markdown tables. It draws what `features/` and `models/`
computed and never decides anything itself; it never reads a demo world's truth.
"""
