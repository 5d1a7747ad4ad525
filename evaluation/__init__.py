"""Demo worlds only: the ONLY code that reads a world's hidden `truth/` (`vigia evaluate`), scoring
a finished run's lists and estimates against it. No stage of the pipeline imports it.
"""
