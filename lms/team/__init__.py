"""A manager's view of their people: the team list, and from it what the staff-council preset
allows (competence profiles under `levels`). It sits on top, so it can link to every domain."""
