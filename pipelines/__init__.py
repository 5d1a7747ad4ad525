"""Wiring only: the Prefect flows (`flow`), their steps (`tasks`) with the options each declares
(`stage`), their deployments and schedules, every MLflow call (`tracking`), the process
environment, the CLI's checks that need no data (`preflight`) and the run a notebook reads
(`notebook_run`). The work itself is in the stage packages.
"""
