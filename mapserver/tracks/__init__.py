"""Patrol tracks (巡查轨迹), without the web: positions checked and filtered, a person's day measured, a walked
track set against a saved plan, and GPX 1.1 tracks read safely.

Coordinates are WGS-84 (EPSG:4326) degrees, as phones report them and as the store keeps them (a batch in GCJ-02
is converted first); times are UTC; distances metres; durations seconds.
"""
