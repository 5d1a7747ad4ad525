"""Off-policy estimators on a simulated inspection policy with known propensities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.offpolicy.estimators import (
    DOUBLY_ROBUST,
    HORVITZ_THOMPSON,
    METHODS,
    SELF_NORMALISED,
    EstimatorOptions,
    estimate_by_group,
    estimate_mean,
    inverse_propensity_weights,
    list_precision,
)

SEEDS = range(60)
N = 2000


def options(**chosen) -> EstimatorOptions:
    """Estimator options (config `offpolicy`): the shipped clipping and interval, and `chosen`."""
    return EstimatorOptions(**{"method": DOUBLY_ROBUST, "min_propensity": 0.01,
                               "confidence": 0.90, "n_resamples": 999, "seed": 0, **chosen})


def simulated_world(seed: int) -> pd.DataFrame:
    """Risky units are inspected more often (selective labels); outcomes seen only if inspected."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=N)
    risk = 1.0 / (1.0 + np.exp(-(-2.5 + 1.2 * x)))
    propensity = np.clip(0.05 + 0.5 * risk, 0.0, 1.0)
    return pd.DataFrame({
        "group": rng.choice(["a", "b"], size=N),
        "outcome": (rng.uniform(size=N) < risk).astype(float),
        "observed": rng.uniform(size=N) < propensity,
        "propensity": propensity,
        # a model that knows the risk only roughly (the doubly robust estimate must not need it
        # to be right)
        "prediction": np.clip(risk * rng.uniform(0.6, 1.4, size=N), 0, 1),
        "score": x + rng.normal(scale=0.5, size=N),
    }, index=pd.Index([f"W{i:05d}" for i in range(N)], name="workplace_id"))


@pytest.mark.parametrize("method", METHODS)
def test_population_mean_unbiased_and_covered(method: str) -> None:
    errors, covered = [], []
    for seed in SEEDS:
        world = simulated_world(seed)
        est = estimate_mean(world["observed"], world["outcome"].where(world["observed"]),
                            world["propensity"], world["prediction"],
                            options=options(method=method, n_resamples=300, seed=seed))
        truth = world["outcome"].mean()
        errors.append(est.estimate - truth)
        covered.append(est.low <= truth <= est.high)
    assert abs(np.mean(errors)) < 0.005
    assert np.mean(covered) >= 0.8


@pytest.mark.parametrize("method", [HORVITZ_THOMPSON, DOUBLY_ROBUST])
def test_list_precision_of_the_top_k(method: str) -> None:
    """The precision of the 200 best-scored units if all were visited, from the inspected ones."""
    errors, covered = [], []
    for seed in SEEDS:
        world = simulated_world(seed)
        est = list_precision(world["score"], 200, world["observed"], world["outcome"],
                             world["propensity"], world["prediction"],
                             options=options(method=method, n_resamples=300, seed=seed))
        truth = world["outcome"][world["score"].rank(ascending=False) <= 200].mean()
        errors.append(est.estimate - truth)
        covered.append(est.low <= truth <= est.high)
    assert abs(np.mean(errors)) < 0.02
    assert np.mean(covered) >= 0.8


def test_naive_mean_of_inspected_is_biased_and_estimators_are_not() -> None:
    """Why it matters: the inspected units' own rate overstates the population's."""
    world = simulated_world(0)
    naive = world.loc[world["observed"], "outcome"].mean()
    est = estimate_mean(world["observed"], world["outcome"], world["propensity"],
                        options=options(method=SELF_NORMALISED))
    assert naive > world["outcome"].mean() + 0.03
    assert abs(est.estimate - world["outcome"].mean()) < abs(naive - world["outcome"].mean())


def test_by_group_and_clipping() -> None:
    world = simulated_world(1)
    by_group = estimate_by_group(world["group"], world["observed"], world["outcome"],
                                 world["propensity"], world["prediction"],
                                 options=options(n_resamples=200))
    assert set(by_group) == {"a", "b"}
    assert all(e.n_target > 0 and e.low <= e.estimate <= e.high for e in by_group.values())
    assert inverse_propensity_weights(np.array([0.0, 0.001, 0.5]), 0.01).tolist() == [
        100.0, 100.0, 2.0]
    with pytest.raises(ValueError):
        inverse_propensity_weights(np.array([0.5]), 0.0)
    with pytest.raises(ValueError, match="predictions"):
        estimate_mean(world["observed"], world["outcome"], world["propensity"], options=options())


def test_nobody_inspected() -> None:
    est = estimate_mean(np.zeros(5, bool), np.full(5, np.nan), np.full(5, 0.1),
                        options=options(method=SELF_NORMALISED))
    assert np.isnan(est.estimate) and est.n_observed == 0
