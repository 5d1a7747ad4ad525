"""Training: the model grid and baselines from config, calibration on a later slice, the backtest
over the split plan, and the planning model retrained for the planning date. It decides how a
model is fitted, never which one wins (`models.selection`) or what a list will find
(`models.offpolicy`); it learns only from labels whose outcomes closed before the date it serves.
"""
