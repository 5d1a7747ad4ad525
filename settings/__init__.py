"""The types of the configuration in config/default.yaml (`settings.schema`)."""
