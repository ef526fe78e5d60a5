"""Writes with business meaning for helprequests; views, admin and tasks call these."""
