"""Archiving results for publication: HEPData submission, checksummed tarball, verify, rebuild."""
