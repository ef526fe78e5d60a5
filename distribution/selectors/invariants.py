"""The allocation invariants, checked by SQL over the whole tables (PostgreSQL): for the
concurrency tests and the approval bench, and for an operator who wants to look.

- no help request holds more than approved (the formula of migrations 0003 and 0012: laptops
  and Chromebooks at most approved laptops plus "either", tablets at most approved tablets
  plus "either", together at most the approved total; approved, shipped, delivered and
  returned count as held);
- every device is `allocated` exactly when it has one live (approved or shipped) allocation,
  and none has more than one.
"""

from django.db import connection

OVERFULL = """
SELECT r.id FROM helprequests_helprequest r JOIN (
    SELECT a.request_id,
           count(*) FILTER (WHERE d.kind <> 'tablet') AS laptops,
           count(*) FILTER (WHERE d.kind = 'tablet') AS tablets
    FROM distribution_allocation a JOIN donations_device d ON d.id = a.device_id
    WHERE a.status IN ('approved', 'shipped', 'delivered', 'returned')
    GROUP BY a.request_id) c ON c.request_id = r.id
WHERE c.laptops + c.tablets > r.approved_laptops + r.approved_tablets + r.approved_either
   OR greatest(c.laptops - r.approved_laptops, 0) + greatest(c.tablets - r.approved_tablets, 0)
      > r.approved_either
ORDER BY r.id
"""

OUT_OF_STEP = """
SELECT d.id FROM donations_device d
LEFT JOIN distribution_allocation a ON a.device_id = d.id AND a.status IN ('approved', 'shipped')
GROUP BY d.id, d.state
HAVING count(a.id) > 1 OR (d.state = 'allocated') <> (count(a.id) = 1)
ORDER BY d.id
"""


def _ids(sql: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def overfull_requests() -> list[int]:
    """Ids of the help requests that hold more devices than approved."""
    return _ids(OVERFULL)


def devices_out_of_step() -> list[int]:
    """Ids of the devices whose state disagrees with their live allocations."""
    return _ids(OUT_OF_STEP)
