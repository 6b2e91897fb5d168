"""NDJSON import (contract 4.5) through the API's own validation."""

from insights.importer.batches import ImportFailed, ImportReport
from insights.importer.lines import Importer, import_file

__all__ = ["ImportFailed", "ImportReport", "Importer", "import_file"]
