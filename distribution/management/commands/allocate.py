"""`python manage.py allocate [--dry-run]`: one matching run from the command line."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from allemaal.services import DomainError
from distribution import services
from distribution.models import AllocationRun


class Command(BaseCommand):
    help = (
        "Propose ready devices for the waiting help requests (replaces the open proposals). "
        "With --dry-run: only show what it would propose."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="compute the proposals, write nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            self.dry_run()
            return
        try:
            run = services.allocation_run(trigger=AllocationRun.Trigger.COMMAND)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        stats = run.stats
        self.stdout.write(
            f"Run {run.pk} (policy version {run.policy_version}): {run.proposals} proposals "
            f"for {run.requests_served} of {run.requests_open} waiting requests; "
            f"{run.devices_available} devices available, {run.units_open} units needed; "
            f"total score {run.total_score}. Load {stats['seconds_load']} s, "
            f"solve {stats['seconds_solve']} s, write {stats['seconds_write']} s."
        )

    def dry_run(self):
        result = services.allocation_dry_run()
        solution, inputs = result.solution, result.inputs
        groups = Counter()
        by_id = {r.id: r for r in inputs.requests}
        for assignment in solution.assignments:
            groups[by_id[assignment.request_id].target_group] += 1
        self.stdout.write(
            f"Dry run (nothing written): {solution.units} proposals for "
            f"{len(solution.allocated_per_request())} of {len(inputs.requests)} waiting requests; "
            f"{len(inputs.devices)} devices available, "
            f"{sum(r.open_total for r in inputs.requests)} units needed; "
            f"total score {solution.total_score}. Load {inputs.seconds:.3f} s, "
            f"solve {result.seconds_solve:.3f} s."
        )
        for group, units in sorted(groups.items()):
            self.stdout.write(f"  {group}: {units}")
