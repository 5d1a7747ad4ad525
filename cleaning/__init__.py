"""The cleaning stage: reading input files (with a mapping for real exports, personal columns
dropped at the door), the data contract (tables, columns, code sets), the row rules that split raw
input into clean typed tables and a quarantine, and the Great Expectations gate (`quality`).
It never reads features, models or the hidden truth of a demo world.
"""
