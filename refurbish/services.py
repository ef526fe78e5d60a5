"""Writes with business meaning for refurbish; views, admin and tasks call these."""
