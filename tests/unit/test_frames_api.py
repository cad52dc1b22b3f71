"""The DataFrame API: same rules, same errors, exact money."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import txsummary
from tests.unit.conftest import summarize_bytes
from txsummary.core.errors import InvalidFileError


def _frame(
    ids: Sequence[object], dates: Sequence[object], amounts: Sequence[object]
) -> pd.DataFrame:
    return pd.DataFrame({"Id": ids, "Date": dates, "Transaction": amounts})


def test_the_challenge_as_a_frame() -> None:
    frame = _frame(["0", "1", "2", "3"], ["7/15", "7/28", "8/2", "8/13"],
                   ["+60.5", "-10.3", "-20.46", "+10"])  # fmt: skip
    summary = txsummary.summarize_frame(frame)
    table = txsummary.month_table(summary)
    assert table["name"].tolist() == ["July", "August"]
    assert table["balance_cents"].tolist() == [5020, -1046]
    assert table["balance"].tolist() == [Decimal("50.20"), Decimal("-10.46")]
    assert table["average_debit_cents"].tolist() == [-1030, -2046]
    assert summary.totals.balance == 3974


def test_errors_name_row_positions_from_one() -> None:
    frame = _frame([0, 1, 1, 3], ["7/15", "2/30", "7/16", "7/17"], ["1", "1", "1", "1e3"])
    with pytest.raises(InvalidFileError) as caught:
        txsummary.summarize_frame(frame)
    assert [e.line for e in caught.value.errors] == [2, 3, 4]
    assert "duplicate Id" in caught.value.errors[1].reason


def test_float_amounts_are_refused_clearly() -> None:
    with pytest.raises(TypeError, match="floats"):
        txsummary.summarize_frame(_frame(["0"], ["7/15"], [60.5]))


def test_columns_are_found_like_a_header_and_missing_values_are_empty() -> None:
    frame = pd.DataFrame({" transaction ": ["+1", "+2"], "ID": ["a", None], "date": ["7/1"] * 2})
    with pytest.raises(InvalidFileError) as caught:
        txsummary.summarize_frame(frame)
    assert [(e.line, e.reason) for e in caught.value.errors] == [(2, "Id is empty")]


def test_month_table_keeps_cents_beyond_int64_exact() -> None:
    amounts = ["+999999999999999.99"] * 200
    frame = _frame([str(i) for i in range(200)], ["2024-07-01"] * 200, amounts)
    table = txsummary.month_table(txsummary.summarize_frame(frame))
    assert table["balance_cents"].tolist() == [200 * 99_999_999_999_999_999]
    assert table["year"].tolist() == [2024]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["7/15", "8/1", "2/29", "13/1", " 7/2"]),
                  st.sampled_from(["+1", "-2.5", "0", "1e3", " 3 ", "12345678901234567"])),
        max_size=30,
    ),
    st.booleans(),
)  # fmt: skip
def test_a_frame_gets_the_verdict_of_the_same_rows_as_csv(
    rows: list[tuple[str, str]], arrow_strings: bool
) -> None:
    # Given the same rows as a frame and as a CSV file
    frame = _frame([str(i) for i in range(len(rows))], [d for d, _ in rows], [a for _, a in rows])
    if arrow_strings:
        frame = frame.astype(pd.ArrowDtype(__import__("pyarrow").string()))
    csv = "Id,Date,Transaction\n" + "".join(f"{i},{d},{a}\n" for i, (d, a) in enumerate(rows))
    # Then both give the same summary, or the same errors (frame rows are CSV lines - 1)
    try:
        expected = summarize_bytes(csv.encode()).to_dict()
    except InvalidFileError as error:
        with pytest.raises(InvalidFileError) as caught:
            txsummary.summarize_frame(frame)
        assert [(e.line + 1, e.reason) for e in caught.value.errors] == [
            (e.line, e.reason) for e in error.errors
        ]
        assert caught.value.error_count == error.error_count
    else:
        assert txsummary.summarize_frame(frame).to_dict() == expected


def test_import_txsummary_stays_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, txsummary; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert np.int64(1) == 1


def test_object_columns_mixing_texts_and_integers_are_read_as_text() -> None:
    summary = txsummary.summarize_frame(_frame([0, "tx-1"], ["7/15", "7/16"], [5, "-1.5"]))
    assert summary.totals.balance == 350
    with pytest.raises(TypeError, match="float"):
        txsummary.summarize_frame(_frame(["0", "1"], ["7/15", "7/16"], ["+1", 2.5]))


def test_the_documented_example_runs() -> None:
    import doctest

    from txsummary.core import dataframe

    assert doctest.testmod(dataframe).failed == 0
