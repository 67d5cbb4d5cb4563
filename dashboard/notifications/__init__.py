"""E-mails to staff and payers: who is told what, in their language, through one SMTP URL."""
