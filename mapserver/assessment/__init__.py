"""The monthly assessment of grid workers (网格员考核): per worker and local month, the cases they reported and
handled (on time, reopened, their follow-ups' satisfaction), the distance and hours they patrolled and the time
inside their own grid, and the planned stops they checked in at, scored and graded by the ``assessment`` section
of config.yaml.

:mod:`~mapserver.assessment.month` the month's window; :mod:`~mapserver.assessment.days` the day measures kept
per person and day; :mod:`~mapserver.assessment.grading` the score and grade; :mod:`~mapserver.assessment.monthly`
puts them together; :mod:`~mapserver.assessment.files` writes CSV and Excel.
"""
