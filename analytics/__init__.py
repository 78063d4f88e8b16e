"""Plain-Python analysis over neutral records: affiliation, attribution, shares, scorecard."""
