"""Monitoring: input and score drift against a model's training profile (PSI, missing share, new
categories) and the fairness audit of a list across offices, size bands, sectors and person
type. It measures and flags; the gate (`models.selection.gate`) decides what a flag means.
"""
