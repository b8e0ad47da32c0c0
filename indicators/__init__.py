"""The slum-scoring model as data plus pure functions (imports only from `geo`).

- `schemes.py` loads the scoring schemes kept as JSON in the data folder `schemes/`
  (Permen PUPR 14/2018 and 02/2016); `scoring.py` turns unit volumes into percentages, scores,
  totals, levels and averages; `consistency.py` checks stored score tables against themselves;
  `progress.py` computes kumuh akhir and kontribusi penanganan; `priority.py` gives pertimbangan
  lain, priority class, handling pattern and kewenangan from the tables in `tables/`.
- `schemes/` and `tables/` are data folders without `__init__.py`, read through
  `importlib.resources`; on import the module `schemes.py` takes precedence over the folder.
"""
