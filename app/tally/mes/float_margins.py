"""The margins that let the fast MES engine decide in floats (see fast.py, "Exactness").

Every float value of the fast engine carries a bound on its rounding error. A decision --
which project wins a round, whether a project is affordable, whether a voter runs dry -- is
taken in floats only when the float margin exceeds SAFETY times that bound and REL relative
to the values compared; any closer call is made again on exact Fractions.
"""

EPS = 2.0 ** -52  # twice the unit round-off of float64
SAFETY = 16.0  # float decisions need a margin of SAFETY x the error bound
REL = 1e-10  # ... and of this much relative to the values compared
MAX_FILL = 40  # water-filling iterations before a row is handed to the exact engine
AHEAD = 0.03  # with no fresh price yet, first price the candidates this close to the smallest bound
FITS = "fits"  # a batch row stopped once certain to fit the budget (and not be exhaustive, if asked)
MAX_CHUNK = 32  # shares per batch in the add-one walk (at most this many computed past the stop)
