"""Writes with business meaning for donations; views, admin and tasks call these."""
