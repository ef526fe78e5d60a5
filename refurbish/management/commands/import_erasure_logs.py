"""Import nwipe logs from files or folders, e.g. the share that wiping stations write to.

    python manage.py import_erasure_logs --refurbisher 67890123 /srv/wislogs/*.log

Prints one line per log (device, drives, outcome) and exits non-zero when any log was refused.
A log imported before is reported as such and is not an error, so a folder can be imported
again safely.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from allemaal.models import Organisation
from refurbish.erasure_logs import LogImportResult, erasure_logs_import
from refurbish.models import ErasureSource

OUTCOME = {
    LogImportResult.RECORDED_ERASED: "ERASED",
    LogImportResult.RECORDED_FAILED: "FAILED",
    LogImportResult.DUPLICATE: "ALREADY",
    LogImportResult.REFUSED: "REFUSED",
}


class Command(BaseCommand):
    help = "Import nwipe / ShredOS erasure logs for a refurbisher (one line per log)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refurbisher", required=True, metavar="KVK", help="KvK number of the refurbisher"
        )
        parser.add_argument("paths", nargs="+", metavar="PATH", help="log files, zips or folders")

    def handle(self, *args, refurbisher, paths, **options):
        organisation = (
            Organisation.objects.verified()
            .filter(kind=Organisation.Kind.REFURBISHER, kvk_number=refurbisher.strip())
            .first()
        )
        if organisation is None:
            raise CommandError(f"No verified refurbisher with KvK number {refurbisher}.")
        files = list(self._files(paths))
        if not files:
            raise CommandError("No files found.")
        results = erasure_logs_import(
            ((str(path), path.read_bytes()) for path in files),
            organisation=organisation,
            by=None,
            source=ErasureSource.COMMAND,
            operator_name="import_erasure_logs",
        )
        for result in results:
            self.stdout.write(self._line(result))
        refused = sum(1 for result in results if result.refused)
        recorded = sum(1 for result in results if result.recorded)
        summary = f"{len(results)} logs: {recorded} recorded, {refused} refused"
        if refused:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)

    def _files(self, paths):
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                yield from sorted(p for p in path.rglob("*") if p.is_file())
            elif path.is_file():
                yield path
            else:
                raise CommandError(f"{raw}: no such file or folder.")

    def _line(self, result: LogImportResult) -> str:
        device = result.device
        who = "-"
        if device is not None:
            who = device.serial_number + (f" ({device.asset_tag})" if device.asset_tag else "")
        drives = ", ".join(
            f"{drive.device_path} {drive.serial or '?'} {drive.result}" for drive in result.drives
        )
        line = f"{OUTCOME[result.status]:<8} {result.name}: device {who}; drives: {drives or '-'}"
        return f"{line}; {result.reason}" if result.reason else line
