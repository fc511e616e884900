"""Checking a dataset, in one place: the scan of its files (``scan``) and the report of the
check_dataset tool (``report``)."""
