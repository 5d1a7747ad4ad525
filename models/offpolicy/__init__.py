"""Selective labels: outcomes exist only where someone inspected. The propensity model (who gets
inspected), the list log (every published list and its selection probabilities), the estimators
(inverse-propensity and doubly robust) and the run's estimates of what its lists would find
(`estimates`). It never treats "not inspected" as "compliant"; `reporting.estimates` writes
what it computes.
"""
