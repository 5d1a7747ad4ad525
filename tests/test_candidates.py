"""The model grid fits and scores a raw feature frame with categoricals, respecting the domain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import model_section
from threadpoolctl import threadpool_info

from features.catalog import FEATURE_CATALOG, FeatureSpec
from models.training.baselines import CountBaseline, RandomBaseline, SectorRegionPrior
from models.training.calibration import RowWeights, fit_calibrated, underlying_pipeline
from models.training.candidates import (
    build_candidates,
    build_grid,
    forest_fit_threads,
    split_columns,
)

CATALOG = {
    **FEATURE_CATALOG,
    "infractions_all": FeatureSpec("infractions_all", "m", "inspections", "all", "l", "{value}",
                                   monotonic=1),
    "complaints_3y": FeatureSpec("complaints_3y", "m", "complaints", "3y", "l", "{value}",
                                 monotonic=1),
    "ciiu_division": FeatureSpec("ciiu_division", "m", "workplaces", "static", "l", "{value}",
                                 kind="categorical"),
}
TINY_GRID = model_section({
    "logistic_regression": {"C": [0.5]},
    "hist_gradient_boosting": {"max_iter": [30], "max_leaf_nodes": [7]},
    "random_forest": {"n_estimators": [20], "max_depth": [5]},
}, baselines={"complaints_column": "complaints_3y", "infractions_column": "infractions_all"})


def synthetic_training(n_per_date: int = 600, dates: int = 3, seed: int = 1):
    """Stacked feature rows for several as-of dates: numerics, categoricals, rare NaN labels."""
    rng = np.random.default_rng(seed)
    frames, labels, as_of = [], [], []
    for d in range(dates):
        n = n_per_date
        infractions = rng.poisson(0.5, n).astype(float)
        complaints = rng.poisson(0.3, n).astype(float)
        division = rng.choice(["01", "07", "47", "56"], n)
        frame = pd.DataFrame({
            "infractions_all": infractions,
            "complaints_3y": complaints,
            "declared_workers": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 300, n)),
            "ciiu_division": pd.array(division, dtype="str"),
            "labour_regime": pd.Categorical(rng.choice(["general", "agrario", None], n)),
            "department_code": pd.array(rng.choice(["15", "17", "21"], n), dtype="str"),
        }, index=pd.Index([f"W{i:05d}" for i in range(n)], name="workplace_id"))
        risk = -4.0 + 0.9 * infractions + 0.6 * complaints + 1.0 * (division == "07")
        outcome = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(float)
        inspected = rng.random(n) < 0.4
        frames.append(frame)
        labels.append(np.where(inspected, outcome, np.nan))
        as_of += [pd.Timestamp("2024-01-01") + pd.DateOffset(months=3 * d)] * n
    return pd.concat(frames), np.concatenate(labels), np.array(as_of)


def test_split_columns_uses_dtype_and_catalog_kind() -> None:
    X, _, _ = synthetic_training(n_per_date=20, dates=1)
    numeric, categorical = split_columns(X.dtypes, CATALOG)
    assert numeric == ["infractions_all", "complaints_3y", "declared_workers"]
    assert categorical == ["ciiu_division", "labour_regime", "department_code"]


def test_every_candidate_fits_and_scores_the_raw_frame(calibration: dict) -> None:
    X, y, as_of = synthetic_training()
    grid = build_grid(TINY_GRID, X.dtypes, CATALOG)
    assert {name.split(":")[0] for name in grid} == {
        "logistic_regression", "hist_gradient_boosting", "random_forest", "baseline"
    }
    assert "baseline:sector_region_prior" in grid
    newest = X.iloc[-600:]
    for name, estimator in grid.items():
        trained = fit_calibrated(estimator, X, y, as_of,
                                 **{**calibration, "calibration_as_of_dates": 1})
        scores = trained.model.predict_proba(newest)[:, 1]
        assert scores.shape == (600,), name
        assert np.all((scores >= 0) & (scores <= 1)), name
        assert trained.calibrated, f"{name}: {trained.note}"
        assert trained.fit_rows + trained.calibration_rows == int((~np.isnan(y)).sum())
        if not name.startswith("baseline"):
            pipeline = underlying_pipeline(trained.model)
            assert pipeline is trained.fitted
            names = list(pipeline[:-1].get_feature_names_out())
            assert "infractions_all" in names and any("ciiu_division" in n for n in names)


def test_a_forest_fitted_on_threads_is_the_forest_fitted_on_one(calibration: dict) -> None:
    """`forest_fit_threads` only shares out the trees: the same scores to the last bit, and the
    fitted forest predicts on one thread (threads would add the votes in another order)."""
    X, y, as_of = synthetic_training()
    name = "random_forest:max_depth=5,n_estimators=20"
    alone, threaded = (
        fit_calibrated(forest_fit_threads(build_grid(TINY_GRID, X.dtypes, CATALOG)[name], threads),
                       X, y, as_of, **calibration)
        for threads in (1, 2))
    assert underlying_pipeline(threaded.model)[-1].n_jobs == 1
    np.testing.assert_array_equal(threaded.model.predict_proba(X),
                                  alone.model.predict_proba(X))


def test_blas_runs_on_one_thread_once_the_grid_is_imported() -> None:
    """Matrix products sum in one order on any machine: a logistic regression's coefficients do
    not depend on the number of cores."""
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_tree_pipelines_encode_categoricals_as_numbers() -> None:
    X, y, as_of = synthetic_training(dates=1)
    for name, pipeline in build_candidates(TINY_GRID, X.dtypes, CATALOG).items():
        if name.startswith("logistic"):
            continue
        labelled = ~np.isnan(y)
        pipeline.fit(X[labelled], y[labelled])
        transformed = pipeline[:-1].transform(X)
        assert all(pd.api.types.is_numeric_dtype(t) for t in transformed.dtypes), name


def test_the_logistic_regression_reads_the_array_its_preprocessing_stacked() -> None:
    """A frame there would be copied once more into the array the solver reads, while the frame
    is still held (0.44 GiB more per fit at 500,000 workplaces); the names SHAP reports stay."""
    X, y, as_of = synthetic_training(dates=1)
    name, pipeline = next((n, p) for n, p in build_candidates(TINY_GRID, X.dtypes, CATALOG).items()
                          if n.startswith("logistic"))
    labelled = ~np.isnan(y)
    pipeline.fit(X[labelled], y[labelled])
    transformed = pipeline[:-1].transform(X)
    assert isinstance(transformed, np.ndarray) and transformed.flags.c_contiguous
    assert transformed.shape[1] == len(pipeline[:-1].get_feature_names_out())


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "random_forest"])
def test_score_never_drops_when_a_monotonic_feature_increases(family: str) -> None:
    X, y, as_of = synthetic_training()
    name, pipeline = next(
        (n, p) for n, p in build_candidates(TINY_GRID, X.dtypes, CATALOG).items()
        if n.startswith(family)
    )
    constraint = pipeline[-1].monotonic_cst
    position = list(X.columns).index("infractions_all")
    assert (constraint["infractions_all"] if isinstance(constraint, dict)
            else constraint[position]) == 1
    labelled = ~np.isnan(y)
    pipeline.fit(X[labelled], y[labelled])
    probe = X.iloc[:200]
    before = pipeline.predict_proba(probe)[:, 1]
    for step in (1.0, 3.0, 10.0):
        more = probe.assign(infractions_all=probe["infractions_all"] + step)
        after = pipeline.predict_proba(more)[:, 1]
        assert np.all(after >= before - 1e-12), name


def test_unlabelled_rows_are_not_training_negatives(calibration: dict) -> None:
    X, y, as_of = synthetic_training(dates=2)
    trained = fit_calibrated(RandomBaseline(seed=3), X, y, as_of,
                             **{**calibration, "calibration_as_of_dates": 1})
    assert trained.fit_rows + trained.calibration_rows == int((~np.isnan(y)).sum())
    assert trained.calibration_as_of == [pd.Timestamp(as_of.max())]


def test_too_few_calibration_positives_falls_back_to_uncalibrated(calibration: dict) -> None:
    X, y, as_of = synthetic_training(dates=2)
    newest = as_of == as_of.max()
    y = np.where(newest & (y == 1.0), 0.0, y)
    trained = fit_calibrated(CountBaseline("infractions_all"), X, y, as_of,
                             **{**calibration, "min_positives": 1})
    assert not trained.calibrated and "uncalibrated" in trained.note
    assert trained.model is trained.fitted


def test_sector_region_prior_is_a_smoothed_rate_over_labelled_rows() -> None:
    X = pd.DataFrame({"ciiu_division": ["07"] * 4 + ["47"] * 4,
                      "department_code": ["17"] * 8})
    y = np.array([1, 1, np.nan, np.nan, 0, 0, 0, 0], dtype=float)
    prior = SectorRegionPrior("ciiu_division", "department_code", smoothing=2.0).fit(X, y)
    overall = 2 / 6
    scores = prior.predict_proba(X)[:, 1]
    assert scores[0] == pytest.approx((2 + 2 * overall) / (2 + 2))
    assert scores[4] == pytest.approx((0 + 2 * overall) / (4 + 2))
    unseen = prior.predict_proba(pd.DataFrame({"ciiu_division": ["99"],
                                               "department_code": ["01"]}))[:, 1]
    assert unseen[0] == pytest.approx(overall)


def test_count_baseline_ranks_by_its_column() -> None:
    X = pd.DataFrame({"complaints_3y": [0.0, 5.0, np.nan, 2.0]})
    scores = CountBaseline("complaints_3y").fit(X, np.zeros(4)).predict_proba(X)[:, 1]
    assert list(np.argsort(-scores, kind="stable")) == [1, 3, 0, 2]


def test_missing_baseline_column_is_left_out_of_the_grid() -> None:
    X, _, _ = synthetic_training(n_per_date=20, dates=1)
    grid = build_grid(TINY_GRID, X.drop(columns=["department_code"]).dtypes, CATALOG)
    assert "baseline:sector_region_prior" not in grid
    assert "baseline:most_recent_complaints" in grid


def test_recency_weights_halve_every_half_life_and_reach_the_model() -> None:
    from models.training.calibration import recency_weights

    X, y, as_of = synthetic_training(dates=3)
    assert recency_weights(as_of, None) is None
    weights = recency_weights(as_of, 3.0)  # dates 3 months apart
    assert weights.max() == 1.0
    assert np.allclose(sorted(set(np.round(weights, 2))), [0.25, 0.5, 1.0], atol=0.01)
    # Zero weight on the oldest date fits what dropping that date fits (up to the
    # preprocessing, which sees every row), unlike the unweighted fit.
    estimator = build_candidates(TINY_GRID, X.dtypes, CATALOG)["logistic_regression:C=0.5"]
    keep = as_of > as_of.min()
    uncalibrated = {"calibration_as_of_dates": 0, "method": "sigmoid", "min_positives": 5}
    weighted = fit_calibrated(estimator, X, y, as_of, **uncalibrated,
                              weights=RowWeights(both=keep.astype(float)))
    dropped = fit_calibrated(estimator, X[keep], y[keep], as_of[keep], **uncalibrated)
    unweighted = fit_calibrated(estimator, X, y, as_of, **uncalibrated)
    scores = {name: fitted.model.predict_proba(X)[:, 1]
              for name, fitted in (("weighted", weighted), ("dropped", dropped),
                                   ("unweighted", unweighted))}
    gap = np.abs(scores["weighted"] - scores["dropped"]).max()
    assert gap < 1e-3 < np.abs(scores["unweighted"] - scores["dropped"]).max()


def test_detection_weights_weigh_down_regular_negatives_only_when_the_team_decided_some() -> None:
    from models.training.calibration import detection_weights

    y = np.array([0.0, 1.0, 0.0, 1.0])
    team = np.array([True, True, False, False])
    assert detection_weights(y, team, 0.2).tolist() == [1.0, 1.0, 0.2, 1.0]
    assert detection_weights(y, team, 1.0) is None
    # Without any visit of the team every negative would weigh less: class reweighting, refused.
    assert detection_weights(y, np.zeros(4, dtype=bool), 0.2) is None


def test_fit_weights_shape_the_ranking_but_not_the_calibrated_probabilities(
        calibration: dict) -> None:
    X, y, as_of = synthetic_training(dates=4)
    # Without class weights: "balanced" would restore the negatives' total weight.
    grid = model_section({"logistic_regression": {"C": [0.5], "class_weight": [None]}})
    estimator = next(iter(build_candidates(grid, X.dtypes, CATALOG).values()))
    negatives_down = np.where(y == 0.0, 0.1, 1.0)
    plain = fit_calibrated(estimator, X, y, as_of, **calibration)
    weighted = fit_calibrated(estimator, X, y, as_of, **calibration,
                              weights=RowWeights(fit_only=negatives_down))
    assert plain.calibrated and weighted.calibrated
    in_calibration = (as_of == as_of.max()) & ~np.isnan(y)
    rows = X[in_calibration]
    raw = {name: fitted.fitted.predict_proba(rows)[:, 1].mean()
           for name, fitted in (("plain", plain), ("weighted", weighted))}
    calibrated = {name: fitted.model.predict_proba(rows)[:, 1].mean()
                  for name, fitted in (("plain", plain), ("weighted", weighted))}
    assert raw["weighted"] > 2 * raw["plain"]  # the fit saw negatives weigh a tenth
    # Calibration on unweighted rows brings both back to the observed rate.
    assert abs(calibrated["weighted"] - y[in_calibration].mean()) < 0.02
    assert abs(calibrated["weighted"] - calibrated["plain"]) < 0.02
    # Without a calibration slice the raw scores are what planners would read: left unweighted.
    uncalibrated = {**calibration, "calibration_as_of_dates": 0}
    alone = fit_calibrated(estimator, X, y, as_of, **uncalibrated,
                           weights=RowWeights(fit_only=negatives_down))
    unweighted = fit_calibrated(estimator, X, y, as_of, **uncalibrated)
    assert np.allclose(alone.model.predict_proba(X)[:, 1], unweighted.model.predict_proba(X)[:, 1])
