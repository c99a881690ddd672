"""In-person and online sessions (issue 14): scheduling, registration with a waitlist, invitations,
reminders, attendance, the signature list, levels confirmed for attendees, retention."""
