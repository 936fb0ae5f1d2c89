# Notification models: see issue 6 (reminders and escalation).
