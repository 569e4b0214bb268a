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


def _coupled_reference(cap, t_old, off, base, lat, coef, ice, kv, heater_net_w, volume_m3,
                       vapour_kg, source_kg_s, sink_m3_s, dt_s, c_ch):
    """Sample.conduct()'s coupled step, solved densely: unknowns T (n), the chamber
    density rho and the pore vapour psi (n - 1): (C/dt + network + lat slope) T -
    lat g psi = C/dt T_old - lat (a - slope T_old) (+ the heater's net power on the
    plate); each layer's vapour balance a + slope (T - T_old) - g psi = what its pores
    pass to the neighbours (kv (psi_i - psi_j); the chamber's psi c_ch rho above the
    first, vacuum below the last); the chamber (V/dt + sink) rho = M/dt + source + the
    top flux. A layer the solve empties is a fixed source ice/dt, solved again."""
    a, g, s, st = (row.copy() for row in coef)
    n = t_old.size
    ice_n = np.concatenate(([np.inf], ice))
    fixed = np.zeros(n, dtype=bool)
    while True:
        m = np.zeros((2 * n, 2 * n))  # rows/columns: T_0..T_{n-1}, rho, psi_1..psi_{n-1}
        m[:n, :n] = _dense(off, base + lat * s)
        v = n + np.arange(n)  # the vapour unknowns' columns
        for i in range(1, n):
            m[i, v[i]] = -lat[i] * g[i]
            m[v[i], i] = -s[i]
            m[v[i], v[i]] = g[i] + kv[i - 1] + kv[i]
            m[v[i], v[i - 1]] = -kv[0] * c_ch if i == 1 else -kv[i - 1]
            if i < n - 1:
                m[v[i], v[i + 1]] = -kv[i]
        m[v[0], v[0]] = volume_m3 / dt_s + sink_m3_s + kv[0] * c_ch
        m[v[0], v[1]] = -kv[0]
        rhs = np.empty(2 * n)
        rhs[:n] = cap * t_old - lat * (a - st)
        rhs[0] += heater_net_w
        rhs[v[1:]] = (a - st)[1:]
        rhs[v[0]] = vapour_kg / dt_s + source_kg_s
        x = np.linalg.solve(m, rhs)
        temp, psi = x[:n], x[n:]
        out = (a + s * (temp - t_old) - g * psi) * dt_s
        out[0] = 0.0
        empties = ~fixed & (out > ice_n)
        if not empties.any():
            return temp, psi[0], out, kv[-1] * psi[-1] * dt_s
        fixed |= empties
        a[empties] = ice_n[empties] / dt_s
        g[empties] = s[empties] = st[empties] = 0.0


@pytest.mark.parametrize("emptying", [False, True])
@pytest.mark.parametrize("open_bottom", [False, True])
def test_coupled_step_is_the_dense_solution(emptying: bool, open_bottom: bool,
                                            kernels) -> None:
    """One block-tridiagonal sweep (2 x 2 blocks: each node's temperature and vapour)
    gives what a dense solve of the whole 2n-unknown system gives, emptying layers
    included; the water that leaves the layers is what reaches the chamber plus what
    leaves through the bottom."""
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
    coef[1, 1:] = rng.uniform(1e-3, 1e-2, n - 1)
    coef[2, 1:] = coef[0, 1:] * rng.uniform(0.05, 0.2, n - 1)
    coef[3] = coef[2] * t_old
    coef[:, 12] = 0.0  # a dry layer the vapour passes through
    kv = rng.uniform(1e-4, 1e-3, n)
    kv[-1] = 5e-4 if open_bottom else 0.0
    ice = rng.uniform(1e-6, 1e-5, n - 1)
    if emptying:
        ice[[0, 5, 6]] = coef[0, [1, 6, 7]] * dt_s * 0.05  # three layers empty this step
    floats = (2.5, 1e-3, 1e-7, 1e-9, 1e-4, dt_s, 40.0)
    want_t, want_rho, want_out, want_below = _coupled_reference(
        cap, t_old, off, base, lat, coef, ice, kv, *floats)
    temp, out, psi = np.empty(n), np.empty(n), np.empty(n)
    rho, below = kernels.coupled_step(cap, t_old, off, base, lat, coef, ice, kv, temp, out,
                                      psi, 2.5, 1e-3 / dt_s, 1e-7 / dt_s, 1e-9, 1e-4, dt_s,
                                      40.0)
    np.testing.assert_allclose(temp, want_t, rtol=1e-12)
    assert rho == pytest.approx(want_rho, rel=1e-10)
    np.testing.assert_allclose(out, want_out, rtol=1e-9, atol=1e-22)
    assert below == pytest.approx(want_below, rel=1e-9, abs=1e-30)
    assert (below > 0.0) is open_bottom
    assert psi[0] == pytest.approx(40.0 * rho, rel=1e-15)
    top_kg = kv[0] * (psi[1] - psi[0]) * dt_s  # into the chamber
    assert out.sum() == pytest.approx(top_kg + below, rel=1e-9)
    assert (out[1:] <= ice * (1.0 + 1e-15)).all()  # no layer gives more than it has
    emptied = out[1:] == ice  # (each emptying layer gives exactly what it had)
    assert bool(emptied.any()) is emptying


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
        kernels.rate_law(*([np.ones(3)] * 6), np.ones(3, dtype=bool)[:2], np.ones(3),
                         110.0, np.empty(12))
    with pytest.raises(ValueError, match="psi: 3 values expected"):
        kernels.rate_law(*([np.ones(3)] * 6), np.ones(3, dtype=bool), np.ones(2),
                         110.0, np.empty(12))
    with pytest.raises(TypeError, match="coupled_step takes 18 arguments"):
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
