"""Pages that show downstream numbers to upstream people (layer 5, below only `config`).

- `facts`: one row per device (`DeviceFact`) with where it is or goes and when it first reached
  each state, kept up to date by a periodic job from the custody events.
- `dashboard`: the dashboard's numbers for a set of filters, from the facts.
- `snapshot`: the periodic job: refreshes the facts and stores the unfiltered dashboard, the
  demand and the public counters in a `DashboardSnapshot`.
- `public`: the public home page's counters (verified organisations only).
- `sources`: the distribution app's shipments, hand-out reports and support contacts.
- `charts`: server-side SVG charts.
- `selectors`: the donor's impact and the requester's progress and queue position.
- `views`: the coordinators' dashboard, the home page, the donor's overview and impact, the
  requester's overview and request page.
"""
