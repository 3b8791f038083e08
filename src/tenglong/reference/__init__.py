"""Per-row ``decimal`` reference implementations of the rules.

Written independently of the vectorised rules, row by row, the way a careful
clerk would compute with a calculator that never rounds. The property tests
compare the two to the 分, and ``tenglong bench engine`` uses the reference as
the per-row baseline. Not used in production.
"""
