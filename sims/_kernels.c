/* sims._kernels: the sample's implicit thermal/vapour step in compiled code.
 *
 * Why C: the step is ~30 elementwise operations and two tridiagonal sweeps on ~31
 * nodes, once per second of mission time. In numpy each operation costs ~1 us of call
 * overhead whatever the array size, and a sweep cannot be vectorised; here the whole
 * step is one call of ~2 us. The Python side (sims/sample.py, sims/tridiag.py) keeps
 * the physics, the checks and the documentation; this file only does the arithmetic
 * it describes, in the same order. Built by setuptools at install (setup.py, which
 * stamps this file's sha256 in; sims/compiled.py checks it); plain C99 and the CPython
 * buffer protocol, no numpy headers.
 *
 * Arrays are passed as C-contiguous float64 buffers (numpy arrays); lengths are
 * checked here and a mismatch raises ValueError naming the argument.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define MAX_NODES 512 /* params: layers <= 400, plus the plate (scratch on the C stack) */
#ifndef KERNELS_SOURCE_SHA256 /* set by setup.py: sha256 of this file when built */
#define KERNELS_SOURCE_SHA256 "unknown"
#endif

/* The buffers a kernel holds, all released by release() on every way out. */
enum { MAX_BUFS = 12 };
typedef struct {
    Py_buffer view[MAX_BUFS];
    int held;
} Buffers;

static void release(Buffers *b) {
    while (b->held > 0) PyBuffer_Release(&b->view[--b->held]);
}

/* The data of obj as a C-contiguous array of n items (n < 0: any number, then put in
 * *n_out) of type "d" (float64) or "?" (bool), writable if asked; held in b. NULL with
 * a ValueError naming the argument if it is not that. */
static void *take(Buffers *b, PyObject *obj, const char *type, Py_ssize_t n, int writable,
                  const char *name, Py_ssize_t *n_out) {
    const int f64 = type[0] == 'd';
    const char *what = f64 ? "float64" : "bool", *unit = f64 ? "values" : "bools";
    const Py_ssize_t size = f64 ? 8 : 1;
    if (b->held >= MAX_BUFS) {
        PyErr_Format(PyExc_SystemError, "%s: a kernel takes at most %d arrays", name, MAX_BUFS);
        return NULL;
    }
    Py_buffer *view = &b->view[b->held];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: a C-contiguous%s %s array is needed", name,
                     writable ? ", writable" : "", what);
        return NULL;
    }
    b->held++;
    if (view->itemsize != size || view->format == NULL || strcmp(view->format, type) != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %s expected", name, what);
        return NULL;
    }
    if (n >= 0 && view->len != n * size) {
        PyErr_Format(PyExc_ValueError, "%s: %zd %s expected, got %zd", name, n, unit,
                     view->len / size);
        return NULL;
    }
    if (n_out != NULL) *n_out = view->len / size;
    return view->buf;
}

/* The float arguments args[0 .. k-1] into out; -1 with the error set if one is not. */
static int floats(PyObject *const *args, int k, double *out) {
    for (int i = 0; i < k; i++) {
        out[i] = PyFloat_AsDouble(args[i]);
        if (out[i] == -1.0 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static int arity(const char *kernel, Py_ssize_t nargs, Py_ssize_t expected) {
    if (nargs == expected) return 0;
    PyErr_Format(PyExc_TypeError, "%s takes %zd arguments", kernel, expected);
    return -1;
}

/* Thomas sweep for A x = rhs (k right-hand sides, rows of rhs and x, length n); A has
 * diag on its diagonal and off on both off-diagonals. One elimination for all k.
 * Returns -1 - row on a zero (or non-finite) pivot, else 0. x may alias rhs. */
static Py_ssize_t thomas(const double *off, const double *diag, const double *rhs,
                         double *x, Py_ssize_t n, Py_ssize_t k, double *cp) {
    double m = diag[0];
    if (m == 0.0 || !isfinite(m)) return -1;
    for (Py_ssize_t j = 0; j < k; j++) x[j * n] = rhs[j * n] / m;
    if (n > 1) cp[0] = off[0] / m;
    for (Py_ssize_t i = 1; i < n; i++) {
        double a = off[i - 1];
        m = diag[i] - a * cp[i - 1];
        if (m == 0.0 || !isfinite(m)) return -1 - i;
        if (i < n - 1) cp[i] = off[i] / m;
        for (Py_ssize_t j = 0; j < k; j++)
            x[j * n + i] = (rhs[j * n + i] - a * x[j * n + i - 1]) / m;
    }
    for (Py_ssize_t i = n - 2; i >= 0; i--)
        for (Py_ssize_t j = 0; j < k; j++) x[j * n + i] -= cp[i] * x[j * n + i + 1];
    return 0;
}

static PyObject *singular(Py_ssize_t code) {
    PyErr_Format(PyExc_FloatingPointError,
                 "tridiagonal system singular: zero pivot at row %zd", -1 - code);
    return NULL;
}

/* solve(off, diag, rhs, x): x = A^-1 rhs, rhs and x of k x n values (k >= 1). */
static PyObject *solve(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (arity("solve(off, diag, rhs, x)", nargs, 4) < 0) return NULL;
    Buffers b = {.held = 0};
    PyObject *result = NULL;
    Py_ssize_t n, len;
    const double *diag = take(&b, args[1], "d", -1, 0, "diag", &n), *off, *rhs;
    double *x, cp[MAX_NODES];
    if (diag == NULL) goto done;
    if (n < 1 || n > MAX_NODES) {
        PyErr_Format(PyExc_ValueError, "diag: 1 to %d rows, got %zd", MAX_NODES, n);
        goto done;
    }
    if ((off = take(&b, args[0], "d", n - 1, 0, "off", NULL)) == NULL) goto done;
    if ((rhs = take(&b, args[2], "d", -1, 0, "rhs", &len)) == NULL) goto done;
    if (len == 0 || len % n != 0) {
        PyErr_Format(PyExc_ValueError, "rhs: a multiple of %zd values expected, got %zd", n,
                     len);
        goto done;
    }
    if ((x = take(&b, args[3], "d", len, 1, "x", NULL)) == NULL) goto done;
    const Py_ssize_t code = thomas(off, diag, rhs, x, n, len / n, cp);
    result = code < 0 ? singular(code) : Py_NewRef(Py_None);
done:
    release(&b);
    return result;
}

/* coupled_step(cap_over_dt, t_old, off, base_diag, lat, coef, ice_kg, kv, temp, out_kg,
 *              psi, heater_net_w, volume_over_dt, vapour_over_dt, other_source_kg_s,
 *              other_sink_m3_s, dt_s, c_chamber) -> (rho, below_kg)
 *
 * Sample.conduct()'s step with vapour (see there for the physics): n = len(t_old)
 * nodes, the plate first (no ice). Each node i has two unknowns: its temperature and a
 * vapour variable, the chamber density rho for the plate's node (0) and the pore
 * vapour psi_i [kg/(m^2 s), the one-way HKL flux of the pore gas] for layer i. coef rows
 * (a, g, slope, slope x T) of n each: layer i sublimates a + slope (T - T_old) - g psi
 * [kg/s]. kv (n): the pore-vapour conductances [m^2], kv[0] the chamber to layer 1
 * (the chamber's psi there is c_chamber x rho), kv[i] layer i to i + 1, kv[n - 1] the
 * bottom to vacuum (0: sealed). ice_kg of the n - 1 layers. A layer whose solved
 * sublimation would exceed its ice gives its ice as a fixed source (ice / dt, 0, 0, 0)
 * and the step is solved again (at most n times: each pass fixes one more layer). The system is block
 * tridiagonal (2 x 2 blocks, diagonal couplings): one block Thomas sweep. Writes the
 * new temperatures to temp (n), the mass each layer gives up to out_kg (n; the plate
 * 0), psi (psi[0] = c_chamber x rho); returns the end-of-step chamber density
 * [kg/m^3] and the mass that left through the bottom [kg]. */
static Py_ssize_t block_thomas(Py_ssize_t n, const double *dg, const double *lo,
                               const double *up, const double *rhs, double *x, double *cp) {
    /* dg: 4 per node (dtt, dtv, dvt, dvv); lo, up: 2 per node (T, V) couplings to the
     * nodes above and below; rhs, x: 2 per node; cp: 4 per node (scratch) */
    double d1 = 0.0, d2 = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        double m11 = dg[4 * i], m12 = dg[4 * i + 1], m21 = dg[4 * i + 2], m22 = dg[4 * i + 3];
        double r1 = rhs[2 * i], r2 = rhs[2 * i + 1];
        if (i > 0) {
            const double lt = lo[2 * i], lv = lo[2 * i + 1];
            const double *c = cp + 4 * (i - 1);
            m11 -= lt * c[0];
            m12 -= lt * c[1];
            m21 -= lv * c[2];
            m22 -= lv * c[3];
            r1 -= lt * d1;
            r2 -= lv * d2;
        }
        const double det = m11 * m22 - m12 * m21;
        if (det == 0.0 || !isfinite(det)) return -1 - i;
        const double i11 = m22 / det, i12 = -m12 / det, i21 = -m21 / det, i22 = m11 / det;
        const double ut = up[2 * i], uv = up[2 * i + 1];
        double *c = cp + 4 * i;
        c[0] = i11 * ut;
        c[1] = i12 * uv;
        c[2] = i21 * ut;
        c[3] = i22 * uv;
        d1 = i11 * r1 + i12 * r2;
        d2 = i21 * r1 + i22 * r2;
        x[2 * i] = d1;
        x[2 * i + 1] = d2;
    }
    for (Py_ssize_t i = n - 2; i >= 0; i--) {
        const double *c = cp + 4 * i;
        const double x1 = x[2 * i + 2], x2 = x[2 * i + 3];
        x[2 * i] -= c[0] * x1 + c[1] * x2;
        x[2 * i + 1] -= c[2] * x1 + c[3] * x2;
    }
    return 0;
}

static PyObject *coupled_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (arity("coupled_step", nargs, 18) < 0) return NULL;
    double s[7];
    if (floats(args + 11, 7, s) < 0) return NULL;
    const double heater_net_w = s[0], volume_over_dt = s[1], vapour_over_dt = s[2],
                 other_source = s[3], other_sink = s[4], dt_s = s[5], c_ch = s[6];
    static const char *names[11] = {"cap_over_dt", "t_old", "off", "base_diag", "lat",
                                    "coef", "ice_kg", "kv", "temp", "out_kg", "psi"};
    Buffers b = {.held = 0};
    PyObject *result = NULL;
    double *v[11];
    Py_ssize_t n;
    if ((v[1] = take(&b, args[1], "d", -1, 0, names[1], &n)) == NULL) goto done;
    if (n < 2 || n > MAX_NODES) {
        PyErr_Format(PyExc_ValueError, "t_old: 2 to %d nodes, got %zd", MAX_NODES, n);
        goto done;
    }
    const Py_ssize_t lens[11] = {n, n, n - 1, n, n, 4 * n, n - 1, n, n, n, n};
    for (int i = 0; i < 11; i++)
        if (i != 1 && (v[i] = take(&b, args[i], "d", lens[i], i >= 8, names[i], NULL)) == NULL)
            goto done;
    const double *cap = v[0], *t_old = v[1], *off = v[2], *base = v[3], *lat = v[4],
                 *coef = v[5], *ice = v[6], *kv = v[7];
    double *temp = v[8], *out = v[9], *psi = v[10];
    /* the coefficients of this step: coef, or a fixed source for an emptying layer */
    double ca[MAX_NODES], cg[MAX_NODES], cs[MAX_NODES], cst[MAX_NODES];
    memcpy(ca, coef, n * sizeof(double));
    memcpy(cg, coef + n, n * sizeof(double));
    memcpy(cs, coef + 2 * n, n * sizeof(double));
    memcpy(cst, coef + 3 * n, n * sizeof(double));
    char fixed[MAX_NODES];
    memset(fixed, 0, n);
    double dg[4 * MAX_NODES], lo[2 * MAX_NODES], up[2 * MAX_NODES], rhs[2 * MAX_NODES],
        x[2 * MAX_NODES], cp[4 * MAX_NODES];
    /* the parts that do not depend on the coefficients: the plate and chamber (node 0),
     * the couplings between nodes */
    dg[0] = base[0];
    dg[1] = dg[2] = 0.0;
    dg[3] = volume_over_dt + other_sink + kv[0] * c_ch;
    rhs[0] = cap[0] * t_old[0] + heater_net_w;
    rhs[1] = vapour_over_dt + other_source;
    lo[0] = lo[1] = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        up[2 * i] = i < n - 1 ? off[i] : 0.0;
        up[2 * i + 1] = i < n - 1 ? -kv[i] : 0.0;
        if (i > 0) {
            lo[2 * i] = off[i - 1];
            lo[2 * i + 1] = i == 1 ? -kv[0] * c_ch : -kv[i - 1];
        }
    }
    double rho = 0.0;
    for (Py_ssize_t pass = 0; pass < n; pass++) {
        for (Py_ssize_t i = 1; i < n; i++) {
            const double l = lat[i];
            dg[4 * i] = base[i] + l * cs[i];
            dg[4 * i + 1] = -(l * cg[i]);
            dg[4 * i + 2] = -cs[i];
            dg[4 * i + 3] = cg[i] + kv[i - 1] + kv[i];
            rhs[2 * i] = cap[i] * t_old[i] + (-(l * ca[i]) + l * cst[i]);
            rhs[2 * i + 1] = ca[i] - cst[i];
        }
        const Py_ssize_t code = block_thomas(n, dg, lo, up, rhs, x, cp);
        if (code < 0) {
            singular(code);
            goto done;
        }
        rho = x[1];
        int refix = 0;
        out[0] = 0.0;
        for (Py_ssize_t i = 1; i < n; i++) {
            const double m = (ca[i] + cs[i] * (x[2 * i] - t_old[i]) - cg[i] * x[2 * i + 1]) * dt_s;
            out[i] = m;
            if (!fixed[i] && m > ice[i - 1]) {
                fixed[i] = refix = 1;
                ca[i] = ice[i - 1] / dt_s;
                cg[i] = cs[i] = cst[i] = 0.0;
            }
        }
        if (!refix) break;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        temp[i] = x[2 * i];
        psi[i] = x[2 * i + 1];
    }
    psi[0] = c_ch * rho;
    result = Py_BuildValue("(dd)", rho, kv[n - 1] * psi[n - 1] * dt_s);
done:
    release(&b);
    return result;
}

/* sublimate(ice_kg, mass_kg, h_ice_j_kg, temp_k, heat_j, ice_out, wet_nodes_out)
 *   -> (sum mass x h_ice, sum mass, sum gross, sum gross x T, sum heat, dry layers)
 *
 * Sample.sublimate()'s arithmetic (see there): n layers; ice_out = max(ice - mass, 0);
 * wet_nodes_out (n + 1 bools, plate first: False) = ice_out > 0; gross = max(mass, 0). */
static PyObject *sublimate(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (arity("sublimate", nargs, 7) < 0) return NULL;
    static const char *names[6] = {"ice_kg", "mass_kg", "h_ice_j_kg", "temp_k", "heat_j",
                                   "ice_out"};
    Buffers b = {.held = 0};
    PyObject *result = NULL;
    double *v[6];
    char *wet;
    Py_ssize_t n;
    if ((v[0] = take(&b, args[0], "d", -1, 0, names[0], &n)) == NULL) goto done;
    for (int i = 1; i < 6; i++)
        if ((v[i] = take(&b, args[i], "d", n, i == 5, names[i], NULL)) == NULL) goto done;
    if ((wet = take(&b, args[6], "?", n + 1, 1, "wet_nodes_out", NULL)) == NULL) goto done;
    const double *ice = v[0], *mass = v[1], *h = v[2], *t = v[3], *heat = v[4];
    double *ice_out = v[5];
    double m_h = 0.0, m_sum = 0.0, g_sum = 0.0, g_t = 0.0, heat_sum = 0.0;
    Py_ssize_t n_dry = 0;
    wet[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const double m = mass[i], left = ice[i] - m;
        const double g = m > 0.0 ? m : 0.0;
        ice_out[i] = left > 0.0 ? left : 0.0;
        wet[i + 1] = left > 0.0;
        n_dry += !(left > 0.0);
        m_h += m * h[i];
        m_sum += m;
        g_sum += g;
        g_t += g * t[i];
        heat_sum += heat[i];
    }
    result = Py_BuildValue("(dddddn)", m_h, m_sum, g_sum, g_t, heat_sum, n_dry);
done:
    release(&b);
    return result;
}

/* The eight basis functions of a node-terms product at T (w: -1/width^2 of the
 * Gaussian terms): ICE_BASIS (1, T, T^2, 1/T, 1/T^2, ln T, exp(w0 T^2), exp(w1 T^2)),
 * sims.ice_nodes; LAYER_BASIS (1, T, T^2, T^3, T^4, T^5, g, T g), g = exp(w0 T^2),
 * sims.layer_nodes. */
enum { ICE_BASIS = 0, LAYER_BASIS = 1 };

static void basis_at(int kind, double T, const double *w, double *b) {
    const double T2 = T * T;
    b[0] = 1.0;
    b[1] = T;
    b[2] = T2;
    if (kind == ICE_BASIS) {
        const double inv = 1.0 / T;
        b[3] = inv;
        b[4] = inv * inv;
        b[5] = log(T);
        b[6] = exp(w[0] * T2);
        b[7] = exp(w[1] * T2);
    } else {
        b[3] = T2 * T;
        b[4] = T2 * T2;
        b[5] = b[4] * T;
        b[6] = exp(w[0] * T2);
        b[7] = b[6] * T;
    }
}

/* node_terms(kind, coef, w, temp_k, out): out (rows x n) = coef (rows x 8) times the
 * basis `kind` (above) at each of the n temp_k; w: the Gaussian terms' -1/width^2 (2). */
static PyObject *node_terms(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (arity("node_terms", nargs, 5) < 0) return NULL;
    const long kind = PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred()) return NULL;
    if (kind != ICE_BASIS && kind != LAYER_BASIS) {
        PyErr_Format(PyExc_ValueError, "kind: %d (ice) or %d (layer), got %ld", ICE_BASIS,
                     LAYER_BASIS, kind);
        return NULL;
    }
    Buffers b = {.held = 0};
    PyObject *result = NULL;
    Py_ssize_t items, n;
    const double *k = take(&b, args[1], "d", -1, 0, "coef", &items), *w, *tk;
    double *o;
    if (k == NULL) goto done;
    const Py_ssize_t rows = items / 8;
    if (rows < 1 || items != rows * 8) {
        PyErr_SetString(PyExc_ValueError, "coef: rows of 8 values expected");
        goto done;
    }
    if ((w = take(&b, args[2], "d", 2, 0, "w", NULL)) == NULL) goto done;
    if ((tk = take(&b, args[3], "d", -1, 0, "temp_k", &n)) == NULL) goto done;
    if ((o = take(&b, args[4], "d", rows * n, 1, "out", NULL)) == NULL) goto done;
    double basis[8];
    for (Py_ssize_t i = 0; i < n; i++) {
        basis_at((int)kind, tk[i], w, basis);
        for (Py_ssize_t r = 0; r < rows; r++) {
            const double *kr = k + 8 * r;
            double acc = 0.0;
            for (int j = 0; j < 8; j++) acc += kr[j] * basis[j];
            o[r * n + i] = acc;
        }
    }
    result = Py_NewRef(Py_None);
done:
    release(&b);
    return result;
}

/* rate_law(ln_p7_sqrt, ln_p2_sqrt, slope_per_k, temp_k, a_coef, g_coef, wet_nodes,
 *          psi, eq7_min_k, coef) -> inert
 *
 * Sample.vapour_coefficients()'s law at n nodes (see there): from the ice_nodes rows
 * (each n), a = a_coef p_sat / sqrt T (p_sat by eq. 7 at or above eq7_min_k, else by
 * the joined eq. 2) and g = g_coef at an active node, both 0 elsewhere: a node is
 * active where wet_nodes (n bools) is True or, dry, where its pore vapour psi (the last
 * step's) exceeds saturation (g psi > a: frost deposits there); slope = a x
 * slope_per_k; writes the rows (a, g, slope, slope x T) to coef (4 x n). Returns True
 * if no node is active (the sample neither gives nor takes vapour). */
static PyObject *rate_law(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (arity("rate_law", nargs, 10) < 0) return NULL;
    double eq7_min_k;
    if (floats(args + 8, 1, &eq7_min_k) < 0) return NULL;
    static const char *names[6] = {"ln_p7_sqrt", "ln_p2_sqrt", "slope_per_k", "temp_k",
                                   "a_coef", "g_coef"};
    Buffers b = {.held = 0};
    PyObject *result = NULL;
    const double *v[6], *psi;
    const char *wet;
    double *a;
    Py_ssize_t n;
    if ((v[3] = take(&b, args[3], "d", -1, 0, names[3], &n)) == NULL) goto done;
    for (int i = 0; i < 6; i++)
        if (i != 3 && (v[i] = take(&b, args[i], "d", n, 0, names[i], NULL)) == NULL)
            goto done;
    if ((wet = take(&b, args[6], "?", n, 0, "wet_nodes", NULL)) == NULL) goto done;
    if ((psi = take(&b, args[7], "d", n, 0, "psi", NULL)) == NULL) goto done;
    if ((a = take(&b, args[9], "d", 4 * n, 1, "coef", NULL)) == NULL) goto done;
    const double *ln_p7 = v[0], *ln_p2 = v[1], *slope_k = v[2], *t = v[3],
                 *a_coef = v[4], *g_coef = v[5];
    double *gg = a + n, *slope = a + 2 * n, *slope_t = a + 3 * n;
    int any = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const double ai = a_coef[i] * exp(t[i] >= eq7_min_k ? ln_p7[i] : ln_p2[i]);
        if (wet[i] || g_coef[i] * psi[i] > ai) {
            a[i] = ai;
            gg[i] = g_coef[i];
        } else {
            a[i] = gg[i] = 0.0;
        }
        slope[i] = a[i] * slope_k[i];
        slope_t[i] = slope[i] * t[i];
        any |= a[i] != 0.0 || gg[i] != 0.0;
    }
    result = Py_NewRef(any ? Py_False : Py_True);
done:
    release(&b);
    return result;
}

/* plausible(t_new, t_old, max_step_dk, min_temp_k) -> bool
 *
 * Plant._checked_vapour_step()'s test of a step: every |t_new - t_old| < max_step_dk
 * and every t_new > min_temp_k (a NaN fails both, so a non-finite step is redone). */
static PyObject *plausible(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (arity("plausible", nargs, 4) < 0) return NULL;
    double bounds[2];
    if (floats(args + 2, 2, bounds) < 0) return NULL;
    Buffers b = {.held = 0};
    PyObject *result = NULL;
    Py_ssize_t n;
    const double *t = take(&b, args[0], "d", -1, 0, "t_new", &n), *t0;
    if (t == NULL || (t0 = take(&b, args[1], "d", n, 0, "t_old", NULL)) == NULL) goto done;
    int ok = 1;
    for (Py_ssize_t i = 0; ok && i < n; i++)
        ok = fabs(t[i] - t0[i]) < bounds[0] && t[i] > bounds[1];
    result = Py_NewRef(ok ? Py_True : Py_False);
done:
    release(&b);
    return result;
}

static PyMethodDef methods[] = {
    {"solve", (PyCFunction)(void (*)(void))solve, METH_FASTCALL,
     "solve(off, diag, rhs, x): tridiagonal solve into x (see sims/tridiag.py)."},
    {"coupled_step", (PyCFunction)(void (*)(void))coupled_step, METH_FASTCALL,
     "Sample.conduct()'s coupled heat/vapour step (see sims/sample.py)."},
    {"sublimate", (PyCFunction)(void (*)(void))sublimate, METH_FASTCALL,
     "Sample.sublimate()'s ice update and ledger sums (see sims/sample.py)."},
    {"plausible", (PyCFunction)(void (*)(void))plausible, METH_FASTCALL,
     "plausible(t_new, t_old, max_step_dk, min_temp_k): Plant's step test."},
    {"rate_law", (PyCFunction)(void (*)(void))rate_law, METH_FASTCALL,
     "Sample.vapour_coefficients()'s sublimation law (see sims/sample.py)."},
    {"node_terms", (PyCFunction)(void (*)(void))node_terms, METH_FASTCALL,
     "node_terms(kind, coef, w, temp_k, out): sims.ice_nodes / sims.layer_nodes terms."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "sims._kernels",
    "The sample's implicit step in compiled code (see sims/_kernels.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "ICE_BASIS", ICE_BASIS) < 0
        || PyModule_AddIntConstant(m, "LAYER_BASIS", LAYER_BASIS) < 0
        || PyModule_AddIntConstant(m, "MAX_NODES", MAX_NODES) < 0
        || PyModule_AddStringConstant(m, "SOURCE_SHA256", KERNELS_SOURCE_SHA256) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
