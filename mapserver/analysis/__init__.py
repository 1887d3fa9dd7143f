"""Incident analysis for the analysis meetings and the big screen: heat per H3 cell, Getis-Ord Gi* hotspots,
emerging-hotspot trends (Gi* per period + Mann-Kendall), camera coverage and grid risk colours.

Counts are incidents; positions and polygons are WGS-84 (EPSG:4326) degrees;
H3 cells are hex-text ids. The store groups incidents by their stored cell;
everything here works on those grouped rows, so the work grows with cells,
never with incidents.
"""
