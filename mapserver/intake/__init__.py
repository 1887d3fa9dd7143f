"""The hotline intake desk (12345 热线受理): what the operator typed → a point, candidates or a road crossing."""
