"""The cleaning stage: the data contract (tables, columns, code sets) and the row rules that
split raw input into clean typed tables and a quarantine."""
