"""``dialer demo``: a whole sandbox campaign end to end on the embedded defaults."""
