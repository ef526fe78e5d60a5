"""Writes with business meaning for allocation and distribution."""
