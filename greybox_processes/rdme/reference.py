"""Exact well-mixed and lattice references for the RDME tests, notebooks and benchmarks.

* :func:`bimolecular_cme`: the chemical master equation of ``A + B <-> C`` in a
  volume ``V`` (a birth-death chain in the number of C), solved directly: the
  stationary law by detailed balance and the time course by ``expm_multiply``.
* :func:`poisson_stationary`: ``0 -> A -> 0`` has a Poisson stationary law.
* :func:`erban_chapman_rate`: the effective bimolecular rate of the lattice RDME
  (Erban & Chapman 2009, Phys. Biol. 6:046001, doi:10.1088/1478-3975/6/4/046001):
  ``k_eff = k / (1 + beta k / ((D_A + D_B) h))`` with ``beta = 0.25273`` on an
  unbounded simple cubic lattice (Watson's integral: ``beta =
  int_0^inf (e^{-2s} I_0(2s))^3 ds``). :func:`lattice_green_r0` gives the
  finite periodic lattice's value, which this module uses by default.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import expm_multiply

from .model import AVOGADRO

__all__ = ["bimolecular_cme", "poisson_stationary", "erban_chapman_rate", "lattice_green_r0",
           "BETA_3D"]

BETA_3D = 0.2527310098586


class BimolecularCME:
    """CME of ``A + B <-> C``: state ``c`` (number of C), ``0 <= c <= c_max``."""

    def __init__(self, n_a: int, n_b: int, n_c: int, kf: float, kr: float, volume_m3: float):
        self.total_a = int(n_a) + int(n_c)
        self.total_b = int(n_b) + int(n_c)
        self.c0 = int(n_c)
        self.c = np.arange(min(self.total_a, self.total_b) + 1)
        self.kf = kf / (AVOGADRO * volume_m3 * 1e3)     # per pair, 1/s
        self.kr = float(kr)
        a = self.total_a - self.c
        b = self.total_b - self.c
        self.birth = self.kf * a * b                      # c -> c + 1
        self.death = self.kr * self.c                     # c -> c - 1

    def stationary(self) -> np.ndarray:
        """P(C = c) at stationarity (detailed balance, in log space)."""
        log_ratio = np.log(self.birth[:-1]) - np.log(self.death[1:])
        log_p = np.concatenate([[0.0], np.cumsum(log_ratio)])
        p = np.exp(log_p - log_p.max())
        return p / p.sum()

    def generator(self):
        n = self.c.size
        up = self.birth[:-1]
        down = self.death[1:]
        diag = -(self.birth + self.death)
        diag[-1] = -self.death[-1]
        return sparse.diags([diag, up, down], [0, 1, -1], shape=(n, n), format="csr").T

    def distribution(self, times) -> np.ndarray:
        """``P(C = c, t)`` at the given times (ascending), shape (n_times, n_states)."""
        times = np.asarray(times, dtype=float)
        p0 = np.zeros(self.c.size)
        p0[self.c0] = 1.0
        q = self.generator()
        out = []
        t_prev, p = 0.0, p0
        for t in times:
            p = expm_multiply(q * (t - t_prev), p) if t > t_prev else p
            p = np.clip(p, 0.0, None)
            p /= p.sum()
            out.append(p)
            t_prev = t
        return np.array(out)

    def mean(self, times) -> np.ndarray:
        return self.distribution(times) @ self.c


def bimolecular_cme(n_a: int, n_b: int, n_c: int, kf: float, kr: float,
                    volume_m3: float) -> BimolecularCME:
    """The well-mixed CME of ``A + B <-> C`` (kf in 1/(M s), kr in 1/s, volume in m^3)."""
    return BimolecularCME(n_a, n_b, n_c, kf, kr, volume_m3)


def poisson_stationary(k_production: float, k_degradation: float, volume_m3: float) -> float:
    """Mean of the Poisson stationary law of ``0 -> A`` (M/s) and ``A -> 0`` (1/s)."""
    return k_production * AVOGADRO * volume_m3 * 1e3 / k_degradation


def lattice_green_r0(shape, hop_rate: float) -> float:
    """``R_0 = int_0^inf (P_t(0, 0) - 1/N) dt`` of the relative walk on a periodic lattice.

    ``hop_rate`` is the relative walk's rate per direction, ``(D_A + D_B) / h^2``.
    On an unbounded lattice ``R_0 = BETA_3D / hop_rate``.
    """
    grids = np.meshgrid(*[2 * np.pi * np.arange(n) / n for n in shape], indexing="ij")
    eig = sum(2 * (1 - np.cos(g)) for g in grids) * hop_rate
    eig = eig.ravel()[1:]
    return float(np.sum(1.0 / eig) / np.prod(shape))


def erban_chapman_rate(k: float, d_sum: float, h: float, shape=None) -> float:
    """Effective bimolecular rate (m^3/s) of the RDME with per-site rate ``k / h^3``.

    ``k`` in m^3/s (multiply 1/(M s) by ``1e-3 / N_A``), ``d_sum = D_A + D_B``
    (m^2/s), ``h`` the spacing (m). With ``shape`` the finite periodic lattice's
    ``R_0`` replaces ``beta h^2 / d_sum``: the mean reaction time of one A and one
    B placed uniformly is then exactly ``V / k_eff`` (``V = N h^3``).
    """
    hop = d_sum / h ** 2
    r0 = BETA_3D / hop if shape is None else lattice_green_r0(shape, hop)
    return 1.0 / (1.0 / k + r0 / h ** 3)
