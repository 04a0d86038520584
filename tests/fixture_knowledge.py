"""A small knowledge folder written by tests: six real-ish entries on distinct subjects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

# Small but real entries: enough distinct subjects to test ranking and rejection.
FIXTURE_ENTRIES: dict[str, dict[str, object]] = {
    "nib-lewat-oss": {
        "topic": "legal",
        "title": "Cara mengurus NIB lewat OSS",
        "tags": ["nib", "oss", "izin usaha"],
        "questions": ["gmn cara bikin nib", "nib bayar gak", "daftar oss di hp bisa?",
                      "izin usaha pertama apa", "nomor induk berusaha itu apa", "ngurus nib piye"],
        "summary": "NIB adalah nomor induk berusaha. Daftar gratis di oss.go.id lewat HP.",
        "steps": ["Siapkan KTP dan email.", "Buka oss.go.id dan buat akun.", "Isi data usaha dan KBLI."],
    },
    "menghitung-hpp": {
        "topic": "finance",
        "title": "Menghitung HPP per produk",
        "tags": ["hpp", "harga pokok", "biaya produksi"],
        "questions": ["cara ngitung hpp", "harga pokok produksi keripik brp", "biaya bahan baku dihitung gmn",
                      "modal per bungkus berapa", "hpp itu apa", "ngitung biaya produksi"],
        "summary": "HPP adalah total biaya membuat satu produk: bahan, tenaga kerja, dan biaya lain.",
        "steps": ["Catat semua bahan per resep.", "Tambahkan upah dan gas.", "Bagi dengan jumlah produk jadi."],
    },
    "qris-daftar-dan-biaya": {
        "topic": "market",
        "title": "Daftar QRIS dan biayanya",
        "tags": ["qris", "pembayaran digital", "mdr"],
        "questions": ["cara daftar qris", "qris bayar gak", "potongan qris berapa persen",
                      "bikin barcode pembayaran", "qris buat warung", "qris gratis?"],
        "summary": "QRIS bisa didaftarkan gratis lewat bank atau penyedia pembayaran.",
        "steps": ["Pilih bank atau PJP.", "Isi formulir merchant.", "Cetak stiker QRIS."],
    },
    "kemasan-kopi-valve": {
        "topic": "packaging",
        "title": "Kemasan kopi dengan valve",
        "tags": ["kopi", "valve", "kemasan"],
        "questions": ["kemasan kopi yg bagus apa", "valve kopi buat apa", "kopi bubuk dibungkus apa",
                      "plastik kopi biar awet", "kemasan biji kopi sangrai", "kopi cepet apek"],
        "summary": "Kopi sangrai melepas gas, jadi pakai kantong dengan katup satu arah.",
        "steps": ["Diamkan kopi sehari.", "Isi kantong valve.", "Seal rapat."],
    },
    "koperasi-manfaat": {
        "topic": "organization",
        "title": "Manfaat bergabung dengan koperasi",
        "tags": ["koperasi", "anggota", "simpan pinjam"],
        "questions": ["ikut koperasi untungnya apa", "koperasi buat umkm", "gabung koperasi gmn",
                      "koperasi bisa pinjam modal?", "anggota koperasi dapat apa", "shu koperasi itu apa"],
        "summary": "Koperasi membantu anggota membeli bahan bersama, menjual bersama, dan meminjam modal.",
        "steps": ["Cari koperasi di desa.", "Daftar jadi anggota.", "Bayar simpanan pokok."],
    },
    "minyak-goreng-bekas-pakai-ulang": {
        "topic": "production",
        "title": "Minyak goreng bekas: kapan harus dibuang",
        "tags": ["minyak goreng", "jelantah", "menggoreng"],
        "questions": ["minyak goreng boleh dipake brp kali", "jelantah dijual kemana", "minyak udh item masih bisa?",
                      "goreng keripik minyaknya diganti kapan", "minyak bekas bahaya gak", "minyak goreng berbusa"],
        "summary": "Minyak yang gelap, berbau, dan berbusa harus dibuang; jual jelantah ke pengepul.",
        "steps": ["Saring minyak setelah dipakai.", "Jangan campur minyak baru dengan lama.", "Buang bila gelap."],
    },
}


# Messages outside the fixture's scope: they train the index's out-of-scope check.
FIXTURE_OUT_OF_SCOPE = [
    "siapa presiden pertama indonesia", "skor persija tadi malem brp", "cuaca besok hujan ga",
    "resep opor ayam buat keluarga", "lirik lagu dangdut terbaru", "zodiak leo minggu ini",
    "hp sy lemot gmn benerin", "jadwal kereta ke bandung", "obat batuk anak apa ya",
    "who won the world cup", "what is the capital of france", "tell me a joke",
    "kucing sy ga mau makan", "film horor yg bagus apa", "pacar sy marah terus",
    "nomor togel hari ini", "harga emas hari ini", "asdfgh qwerty", "pr matematika kelas 5",
    "cara download lagu di youtube", "wis mangan durung kowe", "sopo juara motogp",
]


def entry_markdown(entry_id: str, data: dict[str, object], **overrides: object) -> str:
    """The file text of a fixture entry; `overrides` replace front-matter values."""
    meta = {
        "id": entry_id,
        "title": data["title"],
        "title_en": f"{data['title']} (English)",
        "topic": data["topic"],
        "tags": data["tags"],
        "questions": data["questions"],
        "questions_en": ["How do I do this?", "What does it cost?"],
        "related": [],
        "sources": [{"name": "Sumber resmi", "url": "https://example.go.id"}],
        "updated": "2026-11-01",
        **overrides,
    }
    steps = "\n".join(f"{n}. {s}" for n, s in enumerate(data["steps"], start=1))  # type: ignore[arg-type]
    body = textwrap.dedent(
        f"""{data['summary']}

## Langkah
{steps}

## Bantuan
- Dinas Koperasi dan UKM setempat.
"""
    )
    return f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---\n{body}"


def write_knowledge(
    folder: Path, entries: dict[str, dict[str, object]] = FIXTURE_ENTRIES, out_of_scope: list[str] | None = None
) -> Path:
    """Write entries as knowledge/<topic>/<id>.md under `folder`, and the out-of-scope examples."""
    for entry_id, data in entries.items():
        path = folder / str(data["topic"]) / f"{entry_id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry_markdown(entry_id, data), encoding="utf-8")
    lines = FIXTURE_OUT_OF_SCOPE if out_of_scope is None else out_of_scope
    if lines:
        (folder / "out_of_scope.txt").write_text("# out of scope\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return folder
