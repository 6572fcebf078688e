"""Sparse contingency tables: only the cells with weight, never a dense zones x zones array.

Two layers of 10,000 imported squares meet in a few hundred thousand cells of a possible
100,000,000: a dense table of them would take 800 MB. Here the table is a
``scipy.sparse.csr_array`` (rows: A-zones, columns: B-zones, sorted column indices, no stored
zeros), built from the per-atom products of shares and the cells counted finer than a
municipality (:class:`JointCells`), and read row by row with array operations.

Examples
--------
>>> from scipy import sparse
>>> a = sparse.csr_array(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
>>> b = sparse.csr_array(np.array([[1.0], [1.0], [0.5]]))
>>> sparse_table(a, b, np.array([10.0, 20.0, 30.0])).toarray().tolist()
[[10.0], [35.0]]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Above this many products and cells a table goes through scipy's sparse product: its fixed cost
# per call (about 0.1 ms) is most of an overlay's time at Flemish scale, its C++ loop faster beyond.
LARGE = 20_000


@dataclass(frozen=True, eq=False)
class JointCells(Mapping):
    """Cells counted finer than a municipality (from its sectors or polygons), as arrays.

    Each cell is ``(atom row, A-zone, B-zone, weight)``, each (row, A-zone, B-zone) once, in no
    particular order (:meth:`sorted` gives them by atom row, then A-zone, each pair's cells
    together). Read as a mapping it is what the overlay used to keep as nested dicts: atom row ->
    ``{(A-zone, B-zone): weight}`` (built per row only when asked for).

    Attributes
    ----------
    row, a, b : numpy.ndarray
        Atom row, A-zone position and B-zone position of each cell (int64).
    value : numpy.ndarray
        The cell's weight.
    rows : numpy.ndarray
        The atom rows counted this way (ascending), cells or not.

    Examples
    --------
    >>> cells = JointCells.from_dict({7: {(0, 1): 2.5, (0, 0): 1.0}})
    >>> list(cells), sorted(cells[7].items())
    ([7], [((0, 0), 1.0), ((0, 1), 2.5)])
    """

    row: np.ndarray
    a: np.ndarray
    b: np.ndarray
    value: np.ndarray
    rows: np.ndarray

    @classmethod
    def build(cls, row: np.ndarray, a: np.ndarray, b: np.ndarray, value: np.ndarray,
              rows: np.ndarray) -> "JointCells":
        """Cells from arrays (each (row, A, B) at most once) and the rows they cover."""
        row, a, b = (np.asarray(x, dtype=np.int64) for x in (row, a, b))
        return cls(row, a, b, np.asarray(value, dtype=float), np.unique(np.asarray(rows, dtype=np.int64)))

    def sorted(self) -> "JointCells":
        """The same cells by atom row, then A-zone (computed once): each (row, A-zone) is then a
        range of cells."""
        done = self.__dict__.get("_sorted")
        if done is None:
            # One stable sort of one key (the cells come in runs already sorted by it).
            width = int(self.a.max()) + 1 if len(self.a) else 1
            order = np.argsort(self.row * width + self.a, kind="stable")
            done = JointCells(self.row[order], self.a[order], self.b[order], self.value[order], self.rows)
            object.__setattr__(done, "_sorted", done)
            object.__setattr__(self, "_sorted", done)
        return done

    @classmethod
    def from_dict(cls, cells: Mapping) -> "JointCells":
        """The arrays of atom row -> ``{(A-zone, B-zone): weight}`` (what ``joint_areas`` returns)."""
        if isinstance(cells, JointCells):
            return cells
        triples = [(r, i, j, v) for r, by_pair in cells.items() for (i, j), v in by_pair.items()]
        if not triples:
            return cls.empty(list(cells))
        row, a, b, value = (np.array(x) for x in zip(*triples))
        return cls.build(row, a, b, value, np.array(list(cells), dtype=np.int64)).sorted()

    @classmethod
    def empty(cls, rows: list | np.ndarray | None = None) -> "JointCells":
        """No cells (over ``rows``, when those rows hold no weight in common)."""
        none = np.zeros(0, np.int64)
        rows = np.asarray(rows if rows is not None else [], dtype=np.int64)
        return cls(none, none, none, np.zeros(0), np.unique(rows))

    def __getitem__(self, row: int) -> dict[tuple[int, int], float]:
        """The cells of one atom row as ``{(A-zone, B-zone): weight}``."""
        if row not in self:
            raise KeyError(row)
        cells = self.sorted()
        lo, hi = np.searchsorted(cells.row, [row, row + 1])
        return dict(zip(zip(cells.a[lo:hi].tolist(), cells.b[lo:hi].tolist()), cells.value[lo:hi].tolist()))

    def __contains__(self, row: object) -> bool:
        """Whether the atom row is counted this way."""
        if not isinstance(row, (int, np.integer)):
            return False
        k = int(np.searchsorted(self.rows, row))
        return k < len(self.rows) and int(self.rows[k]) == row

    def __iter__(self) -> Iterator[int]:
        """The atom rows, ascending."""
        return iter(self.rows.tolist())

    def __len__(self) -> int:
        """How many atom rows are counted this way."""
        return len(self.rows)

    def where(self, keep: np.ndarray) -> "JointCells":
        """Only the rows where ``keep`` (a bool per atom) is true."""
        cells = keep[self.row] if len(self.row) else np.zeros(0, bool)
        return JointCells(self.row[cells], self.a[cells], self.b[cells], self.value[cells], self.rows[keep[self.rows]])


def canonical_csr(m: sparse.csr_array) -> sparse.csr_array:
    """CSR with sorted, unique column indices per row (layers are built that way already): the
    one form every walk over a membership's entries assumes (overlay, sector joints, layers).

    Examples
    --------
    >>> from scipy import sparse
    >>> m = canonical_csr(sparse.coo_array(([1.0, 2.0], ([0, 0], [1, 1])), shape=(1, 2)))
    >>> m.indices.tolist(), m.data.tolist()
    ([1], [3.0])
    """
    if not isinstance(m, (sparse.csr_array, sparse.csr_matrix)):
        m = sparse.csr_array(m)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    return m


def pair_count(a: sparse.csr_array, b: sparse.csr_array, atoms: np.ndarray) -> int:
    """How many (A-zone, B-zone) pairs ``atoms`` hold (each atom: its entries in A times in B)."""
    return int((np.diff(a.indptr)[atoms] * np.diff(b.indptr)[atoms]).sum())


def atom_pairs(a: sparse.csr_array, b: sparse.csr_array,
               atoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of an atom's stored entries in ``a`` and in ``b``, atom by atom in the order of
    ``atoms``, then A's entries, then B's: the atom and the two entries' positions in ``data``.
    The order is scipy's in ``a.T @ b``, so sums over it are the same numbers to the last bit.

    Examples
    --------
    >>> a = sparse.csr_array(np.array([[1.0, 1.0], [0.0, 1.0]]))
    >>> b = sparse.csr_array(np.array([[1.0], [0.5]]))
    >>> [x.tolist() for x in atom_pairs(a, b, np.arange(2))]
    [[0, 0, 1], [0, 1, 2], [0, 0, 1]]
    """
    per_a, per_b = np.diff(a.indptr)[atoms], np.diff(b.indptr)[atoms]
    pairs = per_a * per_b
    atom = np.repeat(atoms, pairs)
    k = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    width = np.repeat(per_b, pairs)  # at least 1 for every repeated atom
    return atom, a.indptr[atom] + k // width, b.indptr[atom] + k % width


def sparse_table(a: sparse.csr_array, b: sparse.csr_array, w: np.ndarray,
                 cells: JointCells | None = None) -> sparse.csr_array:
    """The contingency table ``a.T @ diag(w) @ b`` of two membership matrices, plus ``cells``, sparse.

    Each atom adds ``w * share_a * share_b`` to the cell of each pair of its zones (atoms without
    weight add nothing: they leave no stored zeros); ``cells`` adds the weight counted finer
    than a municipality (give those atoms weight 0 in ``w``). Cells without weight are not stored.

    Parameters
    ----------
    a, b : scipy.sparse.csr_array
        Membership matrices (atoms x zones) over the same atoms.
    w : numpy.ndarray
        Weight per atom.
    cells : JointCells, optional
        Weight counted per cell in some atoms.

    Returns
    -------
    scipy.sparse.csr_array
        ``a.shape[1] x b.shape[1]``, sorted column indices, no stored zeros.

    Examples
    --------
    >>> a = sparse.csr_array(np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> t = sparse_table(a, a, np.array([4.0, 0.0]), JointCells.from_dict({1: {(1, 0): 3.0}}))
    >>> t.toarray().tolist(), t.nnz
    ([[4.0, 0.0], [3.0, 0.0]], 2)
    """
    a, b = canonical_csr(a), canonical_csr(b)
    n_a, n_b = a.shape[1], b.shape[1]
    w = np.asarray(w, dtype=float)
    atoms = np.flatnonzero(w != 0)
    total = pair_count(a, b, atoms)
    n_cells = len(cells.value) if cells is not None else 0
    if total > LARGE:
        return _scipy_table(a, b, w, cells)
    atom, entry_a, entry_b = atom_pairs(a, b, atoms)
    rows, cols = a.indices[entry_a].astype(np.int64), b.indices[entry_b].astype(np.int64)
    values = (a.data[entry_a] * w[atom]) * b.data[entry_b]
    if cells is not None and n_cells:
        rows, cols = np.concatenate([rows, cells.a]), np.concatenate([cols, cells.b])
        values = np.concatenate([values, cells.value])
    if total + n_cells > LARGE:
        # Many cells (two grids: 400,000 counted from sectors): grouped by scipy's conversion in C++.
        return _canonical_table(sparse.csr_array((values, (rows, cols)), shape=(n_a, n_b)))
    # One sort of the cells' keys groups them, in the order the atoms added them (a stable sort):
    # the same sums as the dense table's, atom by atom.
    key = rows * n_b + cols
    order = np.argsort(key, kind="stable")
    key, values = key[order], values[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
    sums = np.add.reduceat(values, starts) if len(key) else np.zeros(0)
    key = key[starts]
    kept = sums != 0
    key, sums = key[kept], sums[kept]
    row, col = np.divmod(key, n_b) if n_b else (key, key)
    indptr = np.searchsorted(row, np.arange(n_a + 1))
    table = sparse.csr_array((sums, col.astype(np.int32 if n_b < 2**31 else np.int64), indptr), shape=(n_a, n_b))
    table.has_sorted_indices = True  # sorted by key, one cell per key: canonical by construction
    table.has_canonical_format = True
    return table


def _scipy_table(a: sparse.csr_array, b: sparse.csr_array, w: np.ndarray, cells: JointCells | None) -> sparse.csr_array:
    """:func:`sparse_table` through scipy's sparse product (the same sums, atom by atom, in C++)."""
    scaled = sparse.csr_array((a.data * np.repeat(w, np.diff(a.indptr)), a.indices, a.indptr), shape=a.shape)
    table = sparse.csr_array(scaled.T @ b)
    if cells is not None and len(cells.value):
        table = sparse.csr_array(table + sparse.csr_array((cells.value, (cells.a, cells.b)), shape=table.shape))
    return _canonical_table(table)


def _canonical_table(table: sparse.csr_array) -> sparse.csr_array:
    table.sum_duplicates()  # sorts the column indices
    table.eliminate_zeros()
    return table


def row_sums(table: sparse.csr_array) -> np.ndarray:
    """Per row the sum of its cells (a dense vector of length ``rows``)."""
    return np.bincount(np.repeat(np.arange(table.shape[0]), np.diff(table.indptr)), weights=table.data,
                       minlength=table.shape[0])


def column_sums(table: sparse.csr_array) -> np.ndarray:
    """Per column the sum of its cells (a dense vector of length ``columns``)."""
    return np.bincount(table.indices, weights=table.data, minlength=table.shape[1])


def row_max(table: sparse.csr_array) -> np.ndarray:
    """Per row its largest cell (0 for an empty row; cells are never negative).

    Examples
    --------
    >>> row_max(sparse.csr_array(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0]]))).tolist()
    [2.0, 0.0]
    """
    out = np.zeros(table.shape[0])
    filled = np.diff(table.indptr) > 0
    if filled.any():
        out[filled] = np.maximum.reduceat(table.data, table.indptr[:-1][filled])
    return np.maximum(out, 0.0)


def row_argmax(table: sparse.csr_array) -> np.ndarray:
    """Per row the column of its largest cell, the first of equal ones (0 for an empty row), as
    ``numpy.argmax`` of the dense row gives it.

    Examples
    --------
    >>> row_argmax(sparse.csr_array(np.array([[0.0, 2.0, 2.0], [0.0, 0.0, 0.0]]))).tolist()
    [1, 0]
    """
    n = table.shape[0]
    out = np.zeros(n, dtype=np.int64)
    rows = np.repeat(np.arange(n), np.diff(table.indptr))
    best = row_max(table)
    hit = np.flatnonzero((table.data == best[rows]) & (table.data > 0))
    first_rows, first = np.unique(rows[hit], return_index=True)
    out[first_rows] = table.indices[hit[first]]
    return out


def row(table: sparse.csr_array, i: int) -> np.ndarray:
    """Row ``i`` as a dense vector of length ``columns``."""
    out = np.zeros(table.shape[1])
    lo, hi = table.indptr[i], table.indptr[i + 1]
    out[table.indices[lo:hi]] = table.data[lo:hi]
    return out
