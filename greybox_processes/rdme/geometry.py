"""Lattices of cubic sites with a region (site type) per site.

A :class:`Lattice` is a 2D or 3D array of site types (``uint8``, an index into
``regions``), a spacing ``lambda`` (metres) and a boundary per axis (periodic or
reflecting). Axis order is the array's: ``site_types[i, j, k]`` is the site at
``(x, y, z) = ((i + 1/2) lambda, (j + 1/2) lambda, (k + 1/2) lambda)``; shapes
are always given in that order, ``(nx, ny, nz)``.

Builders: :func:`box`, :func:`sphere`, :func:`capsule`, :func:`from_masks`
(an image-derived geometry) and :func:`add_shell` / :func:`add_region`, which
paint a membrane or a compartment onto an existing lattice. Every site of a
2D lattice is a one-site-thick slab (its volume is ``lambda**3``).
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np

__all__ = ["Lattice", "box", "sphere", "capsule", "from_masks", "add_shell", "add_region",
           "MAX_REGIONS"]

MAX_REGIONS = 255


#: Site edges (m) a lattice may have: below a picometre or above a metre the site volume
#: (edge^3, converted to litres and molecules) under- or overflows floating point, and no
#: reaction-diffusion master equation is meant at either scale (molecules are ~nm).
MIN_SPACING = 1e-12
MAX_SPACING = 1.0


@dataclasses.dataclass(frozen=True, eq=False)
class Lattice:
    """A lattice of cubic sites.

    Attributes
    ----------
    site_types : (nx, ny) or (nx, ny, nz) uint8, the region index of every site
    spacing : site edge length lambda in metres
    regions : region names; ``site_types == i`` is region ``regions[i]``
    periodic : one bool per axis (True: periodic, False: reflecting)
    """

    site_types: np.ndarray
    spacing: float
    regions: tuple[str, ...]
    periodic: tuple[bool, ...]

    def __post_init__(self):
        types = np.asarray(self.site_types)
        if types.ndim not in (2, 3):
            raise ValueError(f"a lattice is 2D or 3D; site_types has shape {types.shape}")
        if not np.issubdtype(types.dtype, np.integer):
            raise ValueError(f"site_types must be integers (region indices), got {types.dtype}")
        if types.size and (types.min() < 0 or types.max() >= len(self.regions)):
            raise ValueError(f"site_types must lie in [0, {len(self.regions)}) "
                             f"(regions {list(self.regions)}), got [{types.min()}, {types.max()}]")
        if len(self.regions) > MAX_REGIONS or len(set(self.regions)) != len(self.regions):
            raise ValueError(f"regions must be at most {MAX_REGIONS} distinct names, "
                             f"got {list(self.regions)}")
        if not (MIN_SPACING <= self.spacing <= MAX_SPACING):
            raise ValueError(f"spacing must be a site edge in [{MIN_SPACING:g}, {MAX_SPACING:g}] "
                             f"metres, got {self.spacing!r}; check the units")
        periodic = self.periodic
        if isinstance(periodic, (bool, np.bool_)):
            periodic = (bool(periodic),) * types.ndim
        if len(periodic) != types.ndim:
            raise ValueError(f"periodic needs one flag per axis ({types.ndim}), got {periodic}")
        object.__setattr__(self, "site_types", types.astype(np.uint8))
        object.__setattr__(self, "periodic", tuple(bool(p) for p in periodic))
        object.__setattr__(self, "regions", tuple(str(r) for r in self.regions))
        object.__setattr__(self, "spacing", float(self.spacing))

    @property
    def shape(self) -> tuple[int, ...]:
        """Sites along each axis."""
        return tuple(int(s) for s in self.site_types.shape)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (2 or 3)."""
        return self.site_types.ndim

    @property
    def n_sites(self) -> int:
        """Number of lattice sites."""
        return int(self.site_types.size)

    @property
    def site_volume(self) -> float:
        """Volume of one site in m^3 (``lambda**3``, also in 2D)."""
        return self.spacing ** 3

    def region_index(self, name: str) -> int:
        """The site-type index of region ``name``; ValueError naming the regions if unknown."""
        if name not in self.regions:
            raise ValueError(f"unknown region {name!r}; the lattice has {list(self.regions)}")
        return self.regions.index(name)

    def region_sizes(self) -> np.ndarray:
        """Number of sites of each region, shape (n_regions,)."""
        return np.bincount(self.site_types.ravel(), minlength=len(self.regions))

    def mask(self, name: str) -> np.ndarray:
        """Boolean array of the lattice's shape, True on the sites of region ``name``."""
        return self.site_types == self.region_index(name)

    def centers(self) -> list[np.ndarray]:
        """Site-centre coordinates (metres), one open-grid array per axis."""
        return [(np.arange(n) + 0.5) * self.spacing for n in self.shape]

    def describe(self) -> str:
        """One line: lattice shape, spacing (nm), boundaries (P periodic, R reflecting) and
        sites per region.
        """
        sizes = ", ".join(f"{r}: {n}" for r, n in zip(self.regions, self.region_sizes()))
        bc = "/".join("P" if p else "R" for p in self.periodic)
        return (f"Lattice {'x'.join(map(str, self.shape))} at {self.spacing * 1e9:g} nm "
                f"(boundaries {bc}; sites {sizes})")


def _shape(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"shape must be 2 or 3 positive ints (nx, ny[, nz]), got {shape}")
    return shape


def box(shape: Sequence[int], spacing: float, *, region: str = "cytoplasm",
        periodic: bool | Sequence[bool] = True) -> Lattice:
    """A box of one region (B1 is ``box((32, 32, 32), 1e-6 / 32)``)."""
    shape = _shape(shape)
    return Lattice(np.zeros(shape, np.uint8), spacing, (region,), periodic)


def _radius_grid(shape, spacing, center):
    if center is None:
        center = [n * spacing / 2 for n in shape]
    if len(center) != len(shape):
        raise ValueError(f"center needs {len(shape)} coordinates, got {center}")
    axes = [(np.arange(n) + 0.5) * spacing - c for n, c in zip(shape, center)]
    grids = np.meshgrid(*axes, indexing="ij")
    return grids


def sphere(shape: Sequence[int], spacing: float, radius: float, *, center=None,
           inside: str = "cytoplasm", outside: str = "extracellular",
           membrane: str | None = "membrane", membrane_thickness: int = 1,
           periodic: bool | Sequence[bool] = False) -> Lattice:
    """A spherical (3D) or circular (2D) cell of ``radius`` metres in ``outside``.

    Sites whose centre lies within ``radius`` are ``inside``; with ``membrane``,
    the outermost ``membrane_thickness`` sites of the cell become ``membrane``.
    """
    shape = _shape(shape)
    if not radius > 0:
        raise ValueError(f"radius must be > 0 metres, got {radius!r}")
    grids = _radius_grid(shape, spacing, center)
    r2 = sum(g * g for g in grids)
    cell = r2 <= radius ** 2
    return _cell_lattice(cell, spacing, inside, outside, membrane, membrane_thickness, periodic)


def capsule(shape: Sequence[int], spacing: float, radius: float, length: float, *,
            axis: int = 0, center=None, inside: str = "cytoplasm",
            outside: str = "extracellular", membrane: str | None = "membrane",
            membrane_thickness: int = 1, periodic: bool | Sequence[bool] = False) -> Lattice:
    """A rod-shaped bacterium: a cylinder of ``length`` (end to end, caps included) along ``axis``."""
    shape = _shape(shape)
    if not (radius > 0 and length >= 2 * radius):
        raise ValueError(f"need radius > 0 and length >= 2 radius, got radius={radius!r}, "
                         f"length={length!r}")
    if not 0 <= axis < len(shape):
        raise ValueError(f"axis must be in [0, {len(shape)}), got {axis}")
    grids = _radius_grid(shape, spacing, center)
    half = length / 2 - radius
    along = np.clip(np.abs(grids[axis]) - half, 0.0, None)
    r2 = along ** 2 + sum(g * g for i, g in enumerate(grids) if i != axis)
    cell = r2 <= radius ** 2
    return _cell_lattice(cell, spacing, inside, outside, membrane, membrane_thickness, periodic)


def _cell_lattice(cell, spacing, inside, outside, membrane, thickness, periodic):
    if not cell.any():
        raise ValueError("the cell covers no site: make the radius larger than the spacing")
    regions = [outside, inside]
    types = np.where(cell, 1, 0).astype(np.uint8)
    lattice = Lattice(types, spacing, tuple(regions), periodic)
    if membrane:
        lattice = add_shell(lattice, inside, membrane, thickness=thickness)
    return lattice


def _neighbour_of(mask: np.ndarray, other: np.ndarray, periodic) -> np.ndarray:
    """Sites of ``mask`` with a face neighbour in ``other``."""
    touched = np.zeros_like(mask)
    for axis in range(mask.ndim):
        for shift in (1, -1):
            rolled = np.roll(other, shift, axis=axis)
            if not periodic[axis]:
                index = [slice(None)] * mask.ndim
                index[axis] = 0 if shift == 1 else -1
                rolled[tuple(index)] = False
            touched |= rolled
    return mask & touched


def add_shell(lattice: Lattice, region: str, shell: str = "membrane", *,
              thickness: int = 1) -> Lattice:
    """Turn the outer ``thickness`` sites of ``region`` (those touching another region) into ``shell``."""
    if int(thickness) < 1:
        raise ValueError(f"thickness must be >= 1 site, got {thickness!r}")
    inside = lattice.mask(region)
    regions = list(lattice.regions)
    if shell not in regions:
        regions.append(shell)
    index = regions.index(shell)
    types = lattice.site_types.copy()
    remaining = inside.copy()
    for _ in range(int(thickness)):
        layer = _neighbour_of(remaining, ~remaining, lattice.periodic)
        types[layer] = index
        remaining &= ~layer
    return Lattice(types, lattice.spacing, tuple(regions), lattice.periodic)


def add_region(lattice: Lattice, mask, name: str, *, within: str | None = None) -> Lattice:
    """Paint ``name`` on the sites of a boolean ``mask`` (only inside ``within`` when given)."""
    mask = _check_mask(mask, lattice.shape, name)
    if within is not None:
        mask = mask & lattice.mask(within)
    regions = list(lattice.regions)
    if name not in regions:
        regions.append(name)
    types = lattice.site_types.copy()
    types[mask] = regions.index(name)
    return Lattice(types, lattice.spacing, tuple(regions), lattice.periodic)


def _check_mask(mask, shape, name) -> np.ndarray:
    array = np.asarray(mask)
    if array.shape != tuple(shape):
        raise ValueError(f"region mask {name!r} has shape {array.shape}, but the lattice is "
                         f"{tuple(shape)}; give one boolean per site, in (nx, ny[, nz]) order")
    if array.dtype != bool:
        if not np.isin(array, (0, 1)).all():
            raise ValueError(f"region mask {name!r} must be boolean (or 0/1), got values "
                             f"{np.unique(array)[:5]}")
        array = array.astype(bool)
    return array


def from_masks(masks: Mapping[str, np.ndarray], spacing: float, *,
               background: str = "extracellular",
               periodic: bool | Sequence[bool] = False) -> Lattice:
    """A lattice from boolean masks (e.g. segmented from an image), painted in order.

    Later masks overwrite earlier ones where they overlap; sites in no mask are
    ``background``.
    """
    if not masks:
        raise ValueError("give at least one region mask")
    first = np.asarray(next(iter(masks.values())))
    shape = _shape(first.shape)
    lattice = Lattice(np.zeros(shape, np.uint8), spacing, (background,), periodic)
    for name, mask in masks.items():
        lattice = add_region(lattice, mask, name)
    return lattice
