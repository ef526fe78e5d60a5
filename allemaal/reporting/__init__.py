"""Reads for the coordinators' dashboard, the donors' impact and the public counters.

- `facts`: one row per device (`DeviceFact`) with where it is or goes and when it first reached
  each state, kept up to date by a periodic job from the custody events.
- `dashboard`: the dashboard's numbers for a set of filters, from the facts.
- `snapshot`: the periodic job: refreshes the facts and stores the unfiltered dashboard, the
  demand and the public counters in a `DashboardSnapshot`.
- `public`: the public home page's counters (verified organisations only).
- `sources`: the distribution app's shipments, hand-out reports and support contacts.
- `charts`: server-side SVG charts.
"""
