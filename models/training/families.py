"""The model families the grid knows, in a module without scikit-learn: the configuration check
names them before a run starts, and a user error should not wait for the libraries' imports."""

FAMILIES = ("logistic_regression", "hist_gradient_boosting", "random_forest")
