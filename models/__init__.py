"""Learning, choosing and listing, by concern; each subpackage says what it decides and what it
must never read:

- `training`: the grid, baselines, calibration, the backtest and the planning model;
- `selection`: which model group wins, and whether it may replace the champion (the gate);
- `offpolicy`: who gets inspected, the list log, and what a list would really find;
- `explaining`: SHAP values and the Spanish reasons built on them;
- `targeting`: office lists with capacities, exclusions and exploration slots;
- `monitoring`: drift and fairness checks;
- `metrics`: metrics of a ranked list, each declaring its direction.

Nothing here writes files for people (that is `reporting/`), reads a demo world's truth or
imports the flows.
"""
