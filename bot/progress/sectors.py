"""Business sectors the bot tailors advice and milestones to."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Sector"]


class Sector(StrEnum):
    """Sector ids as stored in profiles; display names live in templates."""

    FOOD = "food"  # makanan & minuman
    CRAFT = "craft"  # kerajinan, batik, fashion
    AGRI = "agri"  # pertanian, perikanan, peternakan
    TRADE = "trade"  # warung, toko
    SERVICE = "service"  # jasa
    OTHER = "other"
