"""Patrol route planning for police liaisons (巡逻路线): through hot cells, camera blind spots, key places and
overdue incidents, on the road network, within a shift's budget of minutes.

``planner.plan_patrol`` is the entry point; the modules each do one step:
``request`` (the checked request), ``area`` (grids or a liaison's grids),
``candidates`` (stops and their weights), ``network`` (roads → directed graph
in metres, pieces, snapping) and ``networks`` (the road layer's network and its
parts as derived data, kept per process and built before the server forks),
``legs`` (shortest paths between stops), ``solver`` (OR-Tools
prize-collecting tour), ``greedy`` (the baseline), ``gpx`` (files),
``lattice`` (a synthetic street grid for tests and benchmarks). Importing this
package loads none of them.
"""
