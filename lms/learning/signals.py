"""What learning announces to the domains above it, which it must not import.

`course_completed` is sent (sender: the app) with `completion=` once a completion is stored, inside
the request's transaction; listeners flush, the view commits. The assignments domain listens
(connected in lms/__init__.py) to close the assignments the completion meets.
"""

from blinker import Namespace

course_completed = Namespace().signal("course-completed")
