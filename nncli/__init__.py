"""nncli: train multi-layer perceptrons on CSV data from a YAML config, with NumPy only.

Notation follows SPEC.md: columns are observations. X is n0 × k, W_l is n_l × n_(l-1),
β_l is n_l × 1, A_l = W_l Z_(l-1) + β_l, Z_l = f_l(A_l), Ŷ = Z_m.
"""

__version__ = "0.1.0"
