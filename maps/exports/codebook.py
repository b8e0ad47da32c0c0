"""Every exported field: its full name (GeoPackage, GeoJSON, KML), a short name of at most 10 characters
(Shapefile/dBase), an Indonesian label (spreadsheets, print) and what it means (the codebook shipped in the
Shapefile zip and the XLSX). Per-programme and per-funding-source columns are numbered (P01..; U01.., A01..,
R01..: proposed, budgeted, realised) because their codes are longer than dBase allows; the codebook says which is
which."""

from __future__ import annotations

from dataclasses import dataclass

DBF_NAME_LIMIT = 10


@dataclass(frozen=True)
class Field:
    name: str
    short: str
    label: str
    meaning: str


_FIELDS = (
    # slum areas
    Field("slum_area_id", "KWS_ID", "ID kawasan", "Nomor kawasan kumuh (slum area) di basis data"),
    Field("kawasan", "KAWASAN", "Kawasan", "Nama kawasan kumuh menurut SK kumuh"),
    Field("unit_label", "UNIT_LABEL", "Unit", "Label bagian kawasan (RT/RW/lingkungan) dalam SK"),
    Field("decree", "SK", "SK kumuh", "Nomor SK kumuh (keputusan kepala daerah) kawasan ini"),
    Field("kelurahan_code", "KD_KEL", "Kode kelurahan", "Kode Kemendagri kelurahan/desa (tumpang tindih terbesar)"),
    Field("kelurahan", "KELURAHAN", "Kelurahan", "Nama kelurahan/desa"),
    Field("kecamatan_code", "KD_KEC", "Kode kecamatan", "Kode Kemendagri kecamatan"),
    Field("kecamatan", "KECAMATAN", "Kecamatan", "Nama kecamatan"),
    Field("area_ha", "LUAS_HA", "Luas (ha)", "Luas geodesik kawasan dalam hektare"),
    Field("level", "TINGKAT", "Tingkat", "Tingkat kekumuhan terkini: KB berat, KS sedang, KR ringan, TK tidak kumuh"),
    Field("level_name", "TINGKAT_NM", "Tingkat kekumuhan", "Nama tingkat kekumuhan terkini"),
    Field("total_score", "SKOR", "Skor", "Total skor kekumuhan terkini (Permen PUPR 14/2018: 0-80)"),
    Field("scheme", "SKEMA", "Skema", "Skema penilaian (permen14_2018 atau permen02_2016)"),
    Field("round", "PUTARAN", "Putaran survei", "Putaran survei terakhir yang dinilai ('SK' = skor dari SK kumuh)"),
    Field("score_source", "SUMBR_SKOR", "Sumber skor", "survei = dari volume survei; SK = tingkat/skor dalam SK"),
    Field("projected_level", "PROY_TKT", "Tingkat proyeksi",
          "Tingkat proyeksi setelah kegiatan hidup dan selesai (kumuh akhir rencana)"),
    Field("projected_total", "PROY_SKOR", "Skor proyeksi", "Skor proyeksi setelah kegiatan hidup dan selesai"),
    Field("activities", "N_KEG", "Jumlah kegiatan", "Jumlah kegiatan hidup (tidak ditolak/dibatalkan)"),
    Field("activities_completed", "N_SELESAI", "Kegiatan selesai", "Jumlah kegiatan selesai (status selesai/100 %)"),
    Field("program_count", "N_PROGRAM", "Jumlah program", "Jumlah program berbeda yang bekerja di sini"),
    Field("funding_count", "N_DANA", "Jumlah sumber dana", "Jumlah sumber dana berbeda"),
    Field("proposed_cost", "USULAN", "Usulan belum dianggarkan (Rp)",
          "Perkiraan biaya kegiatan hidup yang belum punya baris anggaran (usulan), rupiah; tidak dijumlah dengan pagu "
          "atau realisasi"),
    Field("budgeted", "PAGU", "Pagu anggaran (Rp)", "Jumlah pagu (alokasi) baris anggaran DPA, rupiah"),
    Field("realised", "REALISASI", "Realisasi (Rp)", "Jumlah realisasi baris anggaran DPA, rupiah"),
    Field("criteria_addressed", "KRIT_TANGN", "Kriteria ditangani", "Kriteria yang ditangani kegiatan (1a ... 7b)"),
    Field("criteria_remaining", "KRIT_SISA", "Kriteria skor 3/5",
          "Kriteria yang masih berskor 3 atau 5 pada survei terakhir"),
    Field("criteria_gap", "KRIT_CELAH", "Kriteria belum ditangani",
          "Kriteria berskor 3 atau 5 yang belum ditangani kegiatan mana pun"),
    Field("collaborations", "KOLABORASI", "Kolaborasi", "Jumlah tautan kolaborasi antar kegiatan (sambung-menyambung)"),
    Field("volumes_not_counted", "VOL_TDK_HT", "Volume tak terhitung",
          "Volume kegiatan per kriteria yang satuannya tidak dapat dihitung ke proyeksi"),
    Field("year_first", "THN_AWAL", "Tahun awal", "Tahun mulai kegiatan paling awal"),
    Field("year_last", "THN_AKHIR", "Tahun akhir", "Tahun selesai kegiatan paling akhir"),
    Field("synthetic", "SINTETIS", "Sintetis", "1 = data contoh sintetis (bukan data nyata)"),
    # activities
    Field("activity_id", "KEG_ID", "ID kegiatan", "Nomor kegiatan/usulan di basis data"),
    Field("title", "JUDUL", "Kegiatan", "Judul kegiatan/usulan"),
    Field("kind", "JENIS", "Kode jenis", "Kode jenis kegiatan (katalog)"),
    Field("kind_name", "JENIS_NM", "Jenis kegiatan", "Nama jenis kegiatan (katalog)"),
    Field("criteria", "KRITERIA", "Kriteria", "Kriteria kekumuhan yang ditangani kegiatan"),
    Field("program", "PROGRAM", "Kode program", "Kode program (NSUP, NUSP2, ...)"),
    Field("program_name", "PROGRAM_NM", "Program", "Nama program"),
    Field("funding_source", "SUMBR_DANA", "Kode sumber dana", "Kode sumber dana (APBN, APBD_KABKOTA, ...)"),
    Field("funding_name", "DANA_NM", "Sumber dana", "Nama sumber dana"),
    Field("volume", "VOLUME", "Volume", "Volume kegiatan dalam satuannya"),
    Field("unit", "SATUAN", "Satuan", "Satuan volume (m, unit, m2, KK ...)"),
    Field("cost", "BIAYA", "Perkiraan biaya (Rp)", "Perkiraan biaya kegiatan saat diusulkan, rupiah"),
    Field("year_start", "THN_MULAI", "Tahun mulai", "Tahun anggaran mulai"),
    Field("year_end", "THN_SLS", "Tahun selesai", "Tahun anggaran selesai"),
    Field("stage", "TAHAP", "Tahap", "Tahap perencanaan (rembuk warga ... serah terima)"),
    Field("status", "STATUS", "Status", "Status (aktif, dikembalikan, selesai)"),
    Field("progress", "PROGRES", "Progres (%)", "Kemajuan fisik 0/50/100 %"),
    Field("proposer_area", "WIL_USUL", "Wilayah pengusul", "Lingkungan/RT pengusul (bukan nama orang)"),
    Field("target_agency", "OPD_TUJUAN", "OPD tujuan", "OPD yang dituju usulan"),
    Field("length_m", "PANJANG_M", "Panjang (m)", "Panjang geodesik garis dalam meter"),
    Field("area_m2", "LUAS_M2", "Luas (m2)", "Luas geodesik poligon dalam meter persegi"),
    # assets (the register, issue 12): title, kind, program, funding source, volume, unit as for activities
    Field("asset_id", "ASET_ID", "ID aset", "Nomor aset di basis data"),
    Field("recipient", "PENERIMA", "Penerima", "Penerima aset: OPD atau kelompok (KPP, BKM/LKM)"),
    Field("handover_date", "TGL_BAST", "Tanggal serah terima", "Tanggal berita acara serah terima"),
    Field("handover_number", "NO_BAST", "Nomor berita acara", "Nomor berita acara serah terima"),
    Field("value", "NILAI", "Nilai (Rp)", "Nilai aset dalam rupiah"),
    Field("condition", "KONDISI", "Kondisi", "Kondisi terakhir: baik, rusak_ringan, rusak_berat"),
    Field("service_life_years", "UMUR_THN", "Umur layanan (tahun)", "Umur layanan jenis aset (katalog, contoh)"),
    Field("life_ends_year", "UMUR_AKHIR", "Akhir umur layanan", "Tahun terakhir umur layanan"),
    Field("remaining_life_years", "SISA_UMUR", "Sisa umur (tahun)", "Sisa umur layanan pada tanggal ekspor"),
    Field("last_inspected_on", "TGL_PERIKS", "Pemeriksaan terakhir", "Tanggal pemeriksaan kondisi terakhir"),
    Field("due_for_inspection", "PERLU_PRK", "Perlu diperiksa", "1 = sudah waktunya diperiksa (tanggal ekspor)"),
    # summaries
    Field("code", "KODE", "Kode wilayah", "Kode Kemendagri wilayah"),
    Field("name", "NAMA", "Wilayah", "Nama wilayah"),
    Field("slum_areas", "N_KAWASAN", "Jumlah kawasan", "Jumlah kawasan kumuh (SK terbaru) di wilayah"),
    Field("slum_area_ha", "LUAS_KWS", "Luas kawasan (ha)", "Luas kawasan dalam SK di wilayah (bagian yang masuk)"),
    Field("slum_ha", "LUAS_KUMUH", "Luas kumuh (ha)", "Luas kawasan yang masih kumuh (bukan TK) saat ini"),
    Field("projected_slum_ha", "PROY_KUMUH", "Proyeksi kumuh (ha)", "Luas yang masih kumuh setelah kegiatan rencana"),
    Field("leaving_slum_ha", "LEPAS_KMH", "Lepas kumuh (ha)", "Luas yang menjadi tidak kumuh setelah kegiatan rencana"),
    Field("activities_in_slum_areas", "N_KEG_KWS", "Kegiatan di kawasan", "Jumlah kegiatan hidup di kawasan kumuh"),
    Field("proposed_cost_in_slum_areas", "USULAN_KWS", "Usulan di kawasan (Rp)",
          "Usulan belum dianggarkan di kawasan kumuh, rupiah"),
    Field("budgeted_in_slum_areas", "PAGU_KWS", "Pagu di kawasan (Rp)", "Pagu anggaran di kawasan kumuh, rupiah"),
    Field("realised_in_slum_areas", "REALIS_KWS", "Realisasi di kawasan (Rp)", "Realisasi di kawasan kumuh, rupiah"),
    # memorandum
    Field("year", "TAHUN", "Tahun", "Tahun uangnya: tahun baris anggaran (pagu, realisasi), tahun mulai bagi usulan"),
    Field("kind_count", "N_JENIS", "Jumlah jenis", "Jumlah jenis kegiatan"),
)
FIELDS = {f.name: f for f in _FIELDS}
LEVEL_PREFIX, PROJECTED_LEVEL_PREFIX = "ha_", "projected_ha_"
PROGRAM_PREFIX = "program_"


def level_field(code: str, level_name: str, projected: bool = False) -> Field:
    if projected:
        return Field(f"{PROJECTED_LEVEL_PREFIX}{code}", f"PHA_{code}", f"Proyeksi {level_name} (ha)",
                     f"Hektare yang {level_name} setelah kegiatan rencana")
    return Field(f"{LEVEL_PREFIX}{code}", f"HA_{code}", f"{level_name.capitalize()} (ha)",
                 f"Hektare {level_name} saat ini")


def program_field(number: int, code: str, name: str) -> Field:
    return Field(f"{PROGRAM_PREFIX}{code}", f"P{number:02d}", f"Program {code}",
                 f"Jumlah kegiatan program {code} ({name})")


MONEY_STATE_NAMES = {"proposed": ("U", "Usulan", "usulan belum dianggarkan"),
                     "budgeted": ("A", "Pagu", "pagu anggaran"), "realised": ("R", "Realisasi", "realisasi")}


def funding_field(number: int, code: str, name: str, state: str = "proposed") -> Field:
    """The money of one state (proposed, budgeted, realised) from one funding source: `<state>_<CODE>`, `U01`,
    `A01`, `R01` in Shapefiles."""
    letter, label, meaning = MONEY_STATE_NAMES[state]
    return Field(f"{state}_{code}", f"{letter}{number:02d}", f"{label} {code} (Rp)",
                 f"{meaning.capitalize()} dari sumber dana {code} ({name}), rupiah")


def field_of(name: str, extra: dict[str, Field]) -> Field:
    found = extra.get(name) or FIELDS.get(name)
    if found is None:
        raise KeyError(f"exported field {name!r} has no codebook entry")
    return found
