"""Numbers in text output: money with two decimals, people whole, in the program's units."""

from __future__ import annotations

import math

import pandas as pd

from optimizer.units import money, people, table


def test_money_has_two_decimals_and_separators():
    assert money(51.38) == "51.38"
    assert money(435.2, "$B") == "435.20 $B"
    assert money(1095445, "units") == "1,095,445.00 units"
    assert money(-0.001) == "0.00" and money(-1e-12, "$B") == "0.00 $B"
    assert money(3.1, sign=True) == "+3.10" and money(-0.5, "$B", sign=True) == "-0.50 $B"
    assert money(0.0, sign=True) == "0.00"
    for missing in (None, math.nan, math.inf, "text"):
        assert money(missing, "$B") == "-"


def test_people_are_whole_with_separators():
    assert people(296020.0) == "296,020"
    assert people(35000, "specialists") == "35,000 specialists"
    assert people(-0.2) == "0" and people(0.6) == "1"
    assert people(5000, sign=True) == "+5,000" and people(-5000, sign=True) == "-5,000"
    assert people(None, "specialists") == "-"


def test_table_formats_columns_by_kind():
    frame = pd.DataFrame({"used": [296020.0, 0.0], "limit": [300000.0, math.nan],
                          "binding": [True, False]}, index=pd.Index([2026, 2027], name="year"))
    text = table(frame, people_columns=("used", "limit"))
    assert "296,020" in text and "300,000" in text and ".00" not in text
    assert "-" in text.splitlines()[-1]
    money_text = table(frame)
    assert "296,020.00" in money_text
