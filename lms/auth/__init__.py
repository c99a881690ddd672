"""Sign-in, sessions, passwords and the role checks every view uses."""
