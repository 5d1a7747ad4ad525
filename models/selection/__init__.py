"""Choosing: which model group wins on the backtest's evidence (`choose`), and whether the new
model may replace the registered champion (`promotion`: the pure rule; `gate`: the rows both
models are judged on and the checks). It reads scores and outcomes already measured; it never
fits a model of its own and never reads outcomes the challenger trained on as fresh evidence.
"""
