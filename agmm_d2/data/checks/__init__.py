"""Checking a dataset, in one place: the scan of its files (``scan``), what the catalog says
about the datasets of a run (``catalog``) and the reports made of them (``report``)."""
from .catalog import check_datasets, check_drawable, check_registered
from .report import check_data, check_dataset
from .scan import ScanReport, default_cache_dir, scan_records

__all__ = ["ScanReport", "check_data", "check_dataset", "check_datasets", "check_drawable",
           "check_registered", "default_cache_dir", "scan_records"]
