"""The plant's kernels on both paths (the C extension sims/_kernels.c and its numpy
fallback sims/kernels_numpy.py; the ``kernels`` fixture, tests/sims/conftest.py) against
references written out in numpy, and the errors they give for bad arguments. The physics
each kernel carries is also tested through the public functions (tests/sims/
test_kernels.py, test_sample.py, ...); the two paths against each other in
tests/sims/test_kernel_paths.py."""

from __future__ import annotations

import numpy as np
import pytest

from sims import compiled


def _dense(off: np.ndarray, diag: np.ndarray) -> np.ndarray:
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def _coupled_reference(cap, t_old, off, base, lat, coef, ice, heater_net_w, volume_m3,
                       vapour_kg, source_kg_s, sink_m3_s, dt_s):
    """Sample.conduct()'s coupled step, solved densely: unknowns T (n) and rho, with
    (C/dt + network + lat slope) T - lat b rho = C/dt T_old - lat (a - slope T_old)
    (+ the heater's net power on the plate) and (V/dt + sum b + sink) rho - slope . T
    = M/dt + sum(a - slope T_old) + source; an emptying layer (a dt >= ice) a fixed
    source ice/dt."""
    a, b, s, st = (row.copy() for row in coef)
    emptying = np.concatenate(([False], a[1:] * dt_s >= ice))
    a[emptying] = np.concatenate(([0.0], ice))[emptying] / dt_s
    b[emptying] = s[emptying] = st[emptying] = 0.0
    n = t_old.size
    m = np.zeros((n + 1, n + 1))
    m[:n, :n] = _dense(off, base + lat * s)
    m[:n, n] = -lat * b
    m[n, :n] = -s
    m[n, n] = volume_m3 / dt_s + b.sum() + sink_m3_s
    rhs = np.empty(n + 1)
    rhs[:n] = cap * t_old - lat * (a - st)
    rhs[0] += heater_net_w
    rhs[n] = vapour_kg / dt_s + (a - st).sum() + source_kg_s
    x = np.linalg.solve(m, rhs)
    temp, rho = x[:n], x[n]
    return temp, rho, (a + s * (temp - t_old) - b * rho) * dt_s


@pytest.mark.parametrize("emptying", [False, True])
def test_coupled_step_is_the_dense_solution(emptying: bool, kernels) -> None:
    """One Thomas sweep for two right-hand sides and a Sherman-Morrison update give what
    a dense solve of the whole (n + 1)-unknown system gives, emptying layers included."""
    rng = np.random.default_rng(3)
    n, dt_s = 31, 1.0
    off = -rng.uniform(0.05, 0.5, n - 1)
    cap = rng.uniform(0.5, 5.0, n)
    base = cap.copy()
    base[:-1] -= off
    base[1:] -= off
    t_old = rng.uniform(150.0, 300.0, n)
    lat = np.concatenate(([0.0], rng.uniform(2.8e6, 2.9e6, n - 1)))
    coef = np.zeros((4, n))
    coef[0, 1:] = rng.uniform(1e-9, 1e-7, n - 1)
    coef[1, 1:] = rng.uniform(1e-6, 1e-4, n - 1)
    coef[2, 1:] = coef[0, 1:] * rng.uniform(0.05, 0.2, n - 1)
    coef[3] = coef[2] * t_old
    ice = rng.uniform(1e-6, 1e-5, n - 1)
    if emptying:
        ice[[0, 5, 6]] = coef[0, [1, 6, 7]] * dt_s * 0.5  # three layers empty this step
        ice[9] = 0.0  # and one is dry
    args = (cap, t_old, off, base, lat, coef, ice, 2.5, 1e-3, 1e-7, 1e-9, 1e-4, dt_s)
    want_t, want_rho, want_out = _coupled_reference(*args)
    temp, out = np.empty(n), np.empty(n)
    rho = kernels.coupled_step(cap, t_old, off, base, lat, coef, ice, temp, out, 2.5,
                               1e-3 / dt_s, 1e-7 / dt_s, 1e-9, 1e-4, dt_s)
    np.testing.assert_allclose(temp, want_t, rtol=1e-12)
    assert rho == pytest.approx(want_rho, rel=1e-10)
    np.testing.assert_allclose(out, want_out, rtol=1e-9, atol=1e-22)
    if emptying:  # each emptying layer gives exactly what it had
        np.testing.assert_allclose(out[[1, 6, 7, 10]], ice[[0, 5, 6, 9]], rtol=1e-15)


def test_sublimate_kernel_is_the_ledger_in_numpy(kernels) -> None:
    rng = np.random.default_rng(5)
    n = 30
    ice = rng.uniform(0.0, 1e-5, n)
    ice[3] = 0.0
    mass = rng.uniform(-2e-6, 2e-6, n)
    mass[[1, 2]] = ice[[1, 2]]  # two layers give all they have
    h, t, heat = rng.uniform(-5e5, 5e5, n), rng.uniform(100, 300, n), rng.normal(size=n)
    ice_out, wet = np.empty(n), np.empty(n + 1, dtype=bool)
    m_h, m_sum, g_sum, g_t, heat_sum, n_dry = kernels.sublimate(ice, mass, h, t, heat,
                                                                ice_out, wet)
    left = np.maximum(ice - mass, 0.0)
    assert np.array_equal(ice_out, left)
    assert np.array_equal(wet, np.concatenate(([False], left > 0.0)))
    assert n_dry == np.count_nonzero(left == 0.0) >= 2
    gross = np.maximum(mass, 0.0)
    np.testing.assert_allclose([m_h, m_sum, g_sum, g_t, heat_sum],
                               [mass @ h, mass.sum(), gross.sum(), gross @ t, heat.sum()],
                               rtol=1e-12)


def test_solve_with_several_right_hand_sides_and_aliasing_shapes(kernels) -> None:
    rng = np.random.default_rng(7)
    off, diag = -rng.uniform(0.1, 1.0, 4), rng.uniform(3.0, 4.0, 5)
    rhs = rng.normal(size=(3, 5))
    x = np.empty((3, 5))
    kernels.solve(off, diag, rhs, x)
    np.testing.assert_allclose(x, np.linalg.solve(_dense(off, diag), rhs.T).T, rtol=1e-13)


def test_kernels_name_the_bad_argument(kernels) -> None:
    """Wrong lengths, dtypes, layouts and read-only outputs are ValueErrors naming the
    argument; nothing is written."""
    n = 5
    off, diag, rhs = np.full(n - 1, -0.1), np.full(n, 2.0), np.ones(n)
    with pytest.raises(ValueError, match="off: 4 values expected, got 3"):
        kernels.solve(off[:3], diag, rhs, np.empty(n))
    with pytest.raises(ValueError, match="rhs: a multiple of 5"):
        kernels.solve(off, diag, np.ones(7), np.empty(7))
    with pytest.raises(ValueError, match="diag: float64"):
        kernels.solve(off, diag.astype(np.float32), rhs, np.empty(n))
    with pytest.raises(ValueError, match="rhs: a C-contiguous"):
        kernels.solve(off, diag, np.ones(2 * n)[::2], np.empty(n))
    frozen = np.zeros(n)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="x: a C-contiguous, writable"):
        kernels.solve(off, diag, rhs, frozen)
    assert not frozen.any()
    with pytest.raises(FloatingPointError, match="zero pivot at row 0"):
        kernels.solve(off, np.zeros(n), rhs, np.empty(n))
    with pytest.raises(ValueError, match="kind: 0 \\(ice\\) or 1 \\(layer\\), got 7"):
        kernels.node_terms(7, np.zeros((1, 8)), np.zeros(2), np.ones(3), np.empty(3))
    with pytest.raises(ValueError, match="wet_nodes: 3 bools expected"):
        kernels.rate_law(*([np.ones(3)] * 7), np.ones(3, dtype=bool)[:2], 110.0,
                         np.empty(12))
    with pytest.raises(TypeError, match="coupled_step takes 15 arguments"):
        kernels.coupled_step(1.0)


def test_a_module_built_from_another_source_is_refused(c_kernels) -> None:
    built = c_kernels.SOURCE_SHA256
    assert built == compiled.source_sha256()  # this checkout's module is current
    compiled.check_build(built, None)  # (an installed wheel: no source to compare)
    with pytest.raises(ImportError, match="built from another version of _kernels.c.*make"
                       ".*THERMINE_KERNELS=numpy"):
        compiled.check_build("0" * 64, built)


def test_step_plausibility_test(kernels) -> None:
    """A step is kept when every node moved less than the bound and stays above the
    floor; a NaN anywhere fails it (so a non-finite step is redone)."""
    old = np.array([100.0, 200.0, 300.0])
    assert kernels.plausible(old + 9.99, old, 10.0, 10.0)
    assert not kernels.plausible(old + np.array([0.0, -10.0, 0.0]), old, 10.0, 10.0)
    assert not kernels.plausible(np.array([5.0, 200.0, 300.0]), np.array([9.0, 200, 300]),
                                 10.0, 10.0)
    assert not kernels.plausible(np.array([100.0, np.nan, 300.0]), old, 10.0, 10.0)
    with pytest.raises(ValueError, match="t_old: 3 values expected, got 2"):
        kernels.plausible(old, old[:2], 10.0, 10.0)


def test_the_most_layers_the_params_allow_fit_the_kernels() -> None:
    """plant.sample.layers' upper bound (plus the plate) is within the kernels' scratch:
    a 400-layer sample heats and conserves water through them (the kernels this process
    runs, sims.compiled.KERNELS)."""
    import dataclasses

    from sims.params import PlantParams, SampleParams
    from sims.plant import Plant

    layers_max = SampleParams.__dataclass_fields__["layers"].metadata["max"]
    assert layers_max + 1 <= compiled.kernels.MAX_NODES
    p = PlantParams()
    plant = Plant(dataclasses.replace(p, sample=dataclasses.replace(p.sample,
                                                                    layers=layers_max)))
    plant.inputs.heater_power_w = 20.0
    for _ in range(50):
        plant.step(0.1)
    assert plant.sample.plate_temp_k > p.sample.initial_temp_k
    assert abs(plant.mass_balance_error_kg()) < 1e-15
