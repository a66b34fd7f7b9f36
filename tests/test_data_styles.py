"""styles.csv parsing: unquoted commas, short rows, ids, years and missing values."""

from __future__ import annotations

import pandas as pd
import pytest

from lookbook.data.styles import COLUMNS, StylesError, parse_styles, parse_year

HEADER = ",".join(COLUMNS)


def write_styles(path, lines):
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_parse_styles_rejoins_extra_commas(tmp_path):
    path = write_styles(
        tmp_path / "styles.csv",
        [
            "1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Reid & Taylor Men Blue Shirt",
            "2,Women,Footwear,Shoes,Heels,Red,Summer,2012,Party,Catwalk Women Red, Gold Heels, Pack of 2",
        ],
    )
    parsed = parse_styles(path)
    names = parsed.rows.set_index("id")["productDisplayName"]
    assert len(parsed.rows) == 2
    assert names[2] == "Catwalk Women Red, Gold Heels, Pack of 2"
    assert parsed.rejoined_ids == [2]
    assert parsed.exclusions == []


def test_parse_styles_pandas_default_would_fail(tmp_path):
    # The reason for the hand-written parser: pandas rejects or drops such rows.
    path = write_styles(
        tmp_path / "styles.csv",
        ["1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,A", "2,Women,Footwear,Shoes,Heels,Red,Summer,2012,Party,A, B"],
    )
    with pytest.raises(pd.errors.ParserError):
        pd.read_csv(path)
    assert len(pd.read_csv(path, on_bad_lines="skip")) == 1
    assert len(parse_styles(path).rows) == 2


def test_parse_styles_keeps_quoted_fields(tmp_path):
    path = write_styles(tmp_path / "styles.csv", ['3,Men,Apparel,Bottomwear,Jeans,Blue,Fall,2011,Casual,"Levis Men 32"" Waist, Blue Jeans"'])
    parsed = parse_styles(path)
    assert parsed.rows.loc[0, "productDisplayName"] == 'Levis Men 32" Waist, Blue Jeans'
    assert parsed.rejoined_ids == []


def test_parse_styles_excludes_short_row(tmp_path):
    path = write_styles(tmp_path / "styles.csv", ["4,Men,Apparel,Topwear,Shirts,Blue,Fall,2011"])
    parsed = parse_styles(path)
    assert len(parsed.rows) == 0
    assert parsed.exclusions[0]["id"] == 4
    assert parsed.exclusions[0]["reason"] == "malformed_row"


def test_parse_styles_excludes_invalid_and_duplicate_ids(tmp_path):
    path = write_styles(
        tmp_path / "styles.csv",
        [
            "x7,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Name",
            "5,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,First",
            "5,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Second",
        ],
    )
    parsed = parse_styles(path)
    reasons = [entry["reason"] for entry in parsed.exclusions]
    assert reasons == ["invalid_id", "duplicate_id"]
    assert parsed.rows.loc[0, "productDisplayName"] == "First"


def test_parse_styles_keeps_missing_optional_values(tmp_path):
    path = write_styles(
        tmp_path / "styles.csv",
        [
            "6,Women,Apparel,Topwear,Tops,,,,,",
            "7,Men,Accessories,Watches,Watches,Black,Winter,2012.0,Casual,Titan Watch",
        ],
    )
    rows = parse_styles(path).rows.set_index("id")
    assert len(rows) == 2
    assert pd.isna(rows.loc[6, "baseColour"])
    assert pd.isna(rows.loc[6, "year"])
    assert pd.isna(rows.loc[6, "productDisplayName"])
    assert rows.loc[7, "year"] == 2012
    assert str(rows["year"].dtype) == "Int64"


def test_parse_styles_sorts_by_id(tmp_path):
    path = write_styles(
        tmp_path / "styles.csv",
        ["9,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,B", "8,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,A"],
    )
    assert parse_styles(path).rows["id"].tolist() == [8, 9]


def test_parse_styles_rejects_wrong_header(tmp_path):
    path = tmp_path / "styles.csv"
    path.write_text("id;gender\n1;Men\n", encoding="utf-8")
    with pytest.raises(StylesError, match="expected the ten Kaggle columns"):
        parse_styles(path)


def test_parse_styles_missing_file_names_fix(tmp_path):
    with pytest.raises(StylesError, match="set data_dir"):
        parse_styles(tmp_path / "styles.csv")


def test_parse_styles_strips_byte_order_mark(tmp_path):
    path = tmp_path / "styles.csv"
    path.write_text("\ufeff" + HEADER + "\n1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,A\n", encoding="utf-8")
    assert parse_styles(path).rows["id"].tolist() == [1]


@pytest.mark.parametrize(("text", "expected"), [("2012", 2012), ("2012.0", 2012), (" 2016.0 ", 2016), ("", None)])
def test_parse_year_accepts_float_form(text, expected):
    assert parse_year(text) == expected


@pytest.mark.parametrize("text", ["2012.5", "twenty", "nan"])
def test_parse_year_rejects_non_whole(text):
    with pytest.raises(ValueError):
        parse_year(text)


def test_parse_styles_empties_invalid_year(tmp_path):
    path = write_styles(tmp_path / "styles.csv", ["1,Men,Apparel,Topwear,Shirts,Blue,Fall,20x1,Casual,A"])
    parsed = parse_styles(path)
    assert pd.isna(parsed.rows.loc[0, "year"])
    assert parsed.invalid_years == 1


def test_parse_styles_replaces_invalid_utf8(tmp_path, caplog):
    path = tmp_path / "styles.csv"
    path.write_bytes((HEADER + "\n1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Caf").encode() + b"\xe9 Shirt\n")
    parsed = parse_styles(path)
    assert parsed.rows.loc[0, "productDisplayName"] == "Caf\ufffd Shirt"
    assert "not UTF-8" in caplog.text
