"""Value lists of the CHECK constraints that other modules show as choices (the command line),
kept free of SQLAlchemy so that reading them imports nothing heavy."""

from __future__ import annotations

__all__ = ["AUDIENCES", "COHORT_KINDS", "INSTITUTION_KINDS", "TIMEZONES"]

INSTITUTION_KINDS = ("government", "ngo", "company", "cooperative")
# sentra/klaster, KUB/kelompok perempuan, koperasi, kemitraan, angkatan pelatihan, lainnya
COHORT_KINDS = ("sentra", "kub", "koperasi", "kemitraan", "pelatihan", "lainnya")
# WIB, WITA, WIT: Indonesia has no daylight saving time.
TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
# Who gets a reminder, invitation or broadcast: the whole cohort, members missing a milestone,
# members who logged no figures this month, or one person.
AUDIENCES = ("cohort", "missing_milestone", "no_figures", "person")
