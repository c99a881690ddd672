"""Administration: admins manage people, departments, job roles and sign-in (role: admin).

It sits above `people` and `auth` and combines them: a deactivated person is also signed out.
"""
