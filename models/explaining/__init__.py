"""Explanations: SHAP values of a fitted pipeline in raw feature names (`explain`) and the Spanish
sentences built from them (`reasons`). It explains a model's output; it never changes a score
or a rank, and no sentence may reveal that someone complained.
"""
