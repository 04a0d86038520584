"""Milestone checklist data and selection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.progress.milestones import (
    Milestone,
    load_milestones,
    milestones_for_sector,
    next_suggested,
)
from bot.progress.sectors import Sector

KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

EXPECTED_IDS = {
    "nib", "pirt", "halal", "bpom_md", "trademark", "business_account", "weekly_bookkeeping",
    "hpp_computed", "label_upgraded", "marketplace_shop", "qris", "joined_coop_or_cluster",
    "financing", "exhibition_or_gallery", "modern_retail", "export",
}  # fmt: skip


def _ids(milestones: list[Milestone]) -> list[str]:
    return [m.id for m in milestones]


def test_packaged_file_has_every_milestone_sorted_by_order() -> None:
    milestones = load_milestones()
    assert set(_ids(milestones)) == EXPECTED_IDS
    orders = [m.order for m in milestones]
    assert orders == sorted(orders)
    assert len(set(orders)) == len(orders)


def test_every_knowledge_id_is_kebab_case() -> None:
    for milestone in load_milestones():
        for knowledge_id in milestone.knowledge_ids:
            assert KEBAB.fullmatch(knowledge_id), (milestone.id, knowledge_id)


def test_knowledge_ids_from_the_brief() -> None:
    by_id = {m.id: m for m in load_milestones()}
    assert by_id["nib"].knowledge_id == "nib-lewat-oss"
    assert by_id["pirt"].knowledge_id == "spp-irt-pirt"
    assert by_id["export"].knowledge_id == "ekspor-dokumen-dasar"
    assert by_id["bpom_md"].optional


def test_label_knowledge_depends_on_sector() -> None:
    label = next(m for m in load_milestones() if m.id == "label_upgraded")
    assert label.knowledge_for("food") == "isi-label-pangan-wajib"
    assert label.knowledge_for(Sector.CRAFT) == "kemasan-premium-kerajinan"
    assert label.knowledge_for(None) == "isi-label-pangan-wajib"
    assert label.knowledge_ids == {"isi-label-pangan-wajib", "kemasan-premium-kerajinan"}


def test_food_maker_is_asked_for_food_permits() -> None:
    ids = _ids(milestones_for_sector("food"))
    assert {"pirt", "halal", "bpom_md", "nib"} <= set(ids)


def test_craft_maker_is_not_asked_for_pirt() -> None:
    ids = _ids(milestones_for_sector("craft"))
    assert "pirt" not in ids
    assert "halal" not in ids
    assert "bpom_md" not in ids
    assert {"nib", "label_upgraded", "export"} <= set(ids)


def test_service_business_gets_no_product_milestones() -> None:
    ids = set(_ids(milestones_for_sector("service")))
    assert not ids & {"pirt", "label_upgraded", "modern_retail", "export"}
    assert "nib" in ids


@pytest.mark.parametrize("sector", [None, "", "cosmetics"])
def test_unknown_sector_gets_only_milestones_for_all(sector: str | None) -> None:
    result = milestones_for_sector(sector)
    assert result
    assert all(m.sectors == "all" for m in result)
    everything_for_all = [m for m in load_milestones() if m.sectors == "all"]
    assert result == everything_for_all


def test_next_suggested_follows_order() -> None:
    food = milestones_for_sector("food")
    assert next_suggested(food, set()).id == "nib"
    assert next_suggested(food, {"nib"}).id == "business_account"
    done = {"nib", "business_account", "weekly_bookkeeping", "hpp_computed"}
    assert next_suggested(food, done).id == "pirt"
    # Order is by `order`, not by the order the caller passes them in.
    assert next_suggested(list(reversed(food)), done).id == "pirt"


def test_next_suggested_skips_optional_and_ends_with_none() -> None:
    food = milestones_for_sector("food")
    required = [m.id for m in food if not m.optional]
    assert next_suggested(food, set(required[:-1])).id == required[-1]
    assert next_suggested(food, required) is None
    assert "bpom_md" not in required


def test_next_suggested_for_craft_skips_food_steps() -> None:
    craft = milestones_for_sector("craft")
    done = {"nib", "business_account", "weekly_bookkeeping", "hpp_computed"}
    assert next_suggested(craft, done).id == "qris"


VALID_ENTRY = """
[[milestones]]
id = "{id}"
order = {order}
title_id = "Judul"
title_en = "Title"
knowledge_id = "nib-lewat-oss"
sectors = {sectors}
"""


def _write(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "milestones.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def test_load_from_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        VALID_ENTRY.format(id="b", order=20, sectors='"all"'),
        VALID_ENTRY.format(id="a", order=10, sectors='["food", "craft"]'),
    )
    milestones = load_milestones(path)
    assert _ids(milestones) == ["a", "b"]
    assert milestones[0].sectors == (Sector.FOOD, Sector.CRAFT)


def test_unknown_sector_is_rejected_with_its_name(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID_ENTRY.format(id="a", order=10, sectors='["cosmetics"]'))
    with pytest.raises(ValidationError, match="cosmetics"):
        load_milestones(path)


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        VALID_ENTRY.format(id="nib", order=10, sectors='"all"'),
        VALID_ENTRY.format(id="nib", order=20, sectors='"all"'),
    )
    with pytest.raises(ValidationError, match="duplicate milestone id: nib"):
        load_milestones(path)


def test_duplicate_order_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        VALID_ENTRY.format(id="a", order=10, sectors='"all"'),
        VALID_ENTRY.format(id="b", order=10, sectors='"all"'),
    )
    with pytest.raises(ValidationError, match="duplicate milestone order: 10"):
        load_milestones(path)


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        (VALID_ENTRY.format(id="a", order=10, sectors="[]"), "sectors is empty"),
        (VALID_ENTRY.format(id="Bad-Id", order=10, sectors='"all"'), "id"),
        (
            VALID_ENTRY.format(id="a", order=10, sectors='"all"').replace(
                "nib-lewat-oss", "NIB lewat OSS"
            ),
            "knowledge_id",
        ),
        (
            VALID_ENTRY.format(id="a", order=10, sectors='["food"]')
            + '[milestones.knowledge_by_sector]\ncraft = "kemasan-premium-kerajinan"\n',
            "does not apply to",
        ),
        (VALID_ENTRY.format(id="a", order=10, sectors='"all"') + "colour = 1\n", "colour"),
    ],
)
def test_invalid_entries_are_rejected(tmp_path: Path, entry: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        load_milestones(_write(tmp_path, entry))


def test_loaded_list_is_a_copy() -> None:
    first = load_milestones()
    first.clear()
    assert load_milestones()
