"""Features and labels as of a date: what was known strictly before it (outcomes from `closed_on`),
the label windows, the split plan and the training and scoring sets. Never reads models, the
flows or a demo world's truth: a feature that needs the future is a leak.
"""
