"""``stats`` checks every row of a results file against its volumes: same statistics, or a refusal naming the line.

Expected categories come from the study's rule written out here ((follow-up - baseline) / baseline
against ±15%), not from the code; expected p values from scipy.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from onfh_volume.analysis.statistics import study_statistics
from onfh_volume.cli import main
from onfh_volume.errors import AnalysisError

COLUMNS = ["patient_id", "side", "reader", "group", "baseline_volume_cm3", "followup_volume_cm3"]
COLUMNS += ["change_pct", "category", "threshold_pct", "status"]


def category(baseline: float, followup: float) -> tuple[str, str]:
    """change_pct and category as the study defines them (15% threshold, the threshold itself a change)."""
    if baseline == 0:
        return "", "new lesion" if followup > 0 else "no lesion"
    change = (followup - baseline) / baseline * 100
    word = "increase" if change >= 15 else "decrease" if change <= -15 else "no change"
    return f"{change:.6f}", word


def row(patient: str, side: str, group: str, baseline: float, followup: float) -> dict[str, str]:
    change, word = category(baseline, followup)
    return dict(
        patient_id=patient, side=side, reader="R1", group=group, baseline_volume_cm3=repr(baseline),
        followup_volume_cm3=repr(followup), change_pct=change, category=word, threshold_pct="15.0", status="ok",
    )  # fmt: skip


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


#: Two groups of four hips: paired t p and chi-squared p known from scipy below.
VOLUMES = {
    "A": [(10.0, 7.0), (8.0, 6.5), (12.0, 11.0), (9.0, 9.5)],
    "B": [(7.0, 9.0), (11.0, 13.5), (6.0, 6.2), (8.0, 10.0)],
}


def valid_rows() -> list[dict[str, str]]:
    return [
        row(f"p{group}{k // 2}", ("right", "left")[k % 2], group, b, f)
        for group, pairs in VOLUMES.items()
        for k, (b, f) in enumerate(pairs)
    ]


def cli(path: Path, capsys) -> tuple[int, str]:
    code = main(["stats", str(path), "--json"])
    captured = capsys.readouterr()
    return code, captured.err if code else captured.out


def test_a_valid_file_gives_scipy_s_p_values(tmp_path: Path, capsys) -> None:
    code, out = cli(write(tmp_path / "r.csv", valid_rows()), capsys)
    assert code == 0
    data = json.loads(out)
    for group, pairs in VOLUMES.items():
        baseline, followup = np.array(pairs).T
        expected = scipy_stats.ttest_rel(followup, baseline).pvalue
        assert data["groups"][group]["paired_t"]["p_value"] == pytest.approx(expected, rel=1e-9)
    table = [[2, 2, 0], [0, 1, 3]]  # A: 2 decrease, 2 no change; B: 1 no change, 3 increase
    assert data["between_groups"]["categories_chi2"]["p_value"] == pytest.approx(
        scipy_stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9
    )


def mutated(tmp_path: Path, line: int, **cells: str) -> Path:
    rows = valid_rows()
    rows[line - 2].update(cells)
    return write(tmp_path / "r.csv", rows)


@pytest.mark.parametrize(
    ("line", "cells", "says"),
    [
        (2, {"category": "no change"}, "line 2: category 'no change' contradicts the volumes (10 → 7 cm³: -30%, 'decrease' at ±15%)"),
        (3, {"change_pct": "18.75"}, "line 3: change_pct 18.75 contradicts the volumes (8 → 6.5 cm³ give -18.75%)"),
        (7, {"category": "Increase"}, "line 7: category 'Increase' is none of 'decrease', 'no change', 'increase', 'new lesion', 'no lesion'"),
        (8, {"category": "increased"}, "line 8: category 'increased' is none of"),
        (4, {"baseline_volume_cm3": "-12.0"}, "line 4: baseline_volume_cm3 -12 is negative"),
        (5, {"followup_volume_cm3": "1e308"}, "line 5: followup_volume_cm3 1e+308 is over 100000 cm³, beyond any lesion"),
        (6, {"status": "OK"}, "line 6: status 'OK' is not 'ok' as onfh-volume batch writes it"),
        (6, {"status": "baseline: no such file"}, "line 6: the status says the hip was not measured ('baseline: no such file') yet the row has a change or category"),
        (9, {"side": "Left"}, "line 9: side 'Left' is neither 'right' nor 'left'"),
    ],
)  # fmt: skip
def test_a_row_contradicting_its_volumes_or_the_vocabulary_is_refused_naming_its_line(
    tmp_path: Path, capsys, line: int, cells: dict[str, str], says: str
) -> None:
    path = mutated(tmp_path, line, **cells)
    code, err = cli(path, capsys)
    assert code == 2
    assert err.count("\n") == 1 and says in err and str(path) in err


def test_a_hip_on_two_lines_is_refused(tmp_path: Path, capsys) -> None:
    rows = valid_rows()
    path = write(tmp_path / "r.csv", [*rows, rows[0]])
    code, err = cli(path, capsys)
    assert code == 2
    assert "line 10: hip 'pA0' 'right' of reader 'R1' is already on line 2: each hip counts once" in err


def test_new_and_absent_lesions_are_recomputed_too(tmp_path: Path) -> None:
    rows = [*valid_rows(), row("pC", "right", "A", 0.0, 2.0), row("pD", "right", "A", 0.0, 0.0)]
    assert study_statistics(write(tmp_path / "r.csv", rows)).groups["A"].categories["new lesion"] == 1
    rows[-1]["category"] = "new lesion"
    with pytest.raises(
        AnalysisError,
        match=r"line 11: category 'new lesion' contradicts the volumes \(0 → 0 cm³: 'no lesion'",
    ):
        study_statistics(write(tmp_path / "r.csv", rows))


# --- any mutation: the same statistics or a one-line refusal naming the line ------------------------

CELL_TEXT = st.one_of(
    st.sampled_from(["ok", "OK", " ok", "Ok", "", "failed", "decrease", "no change", "increase", "new lesion",
                     "no lesion", "Decrease", "no-change", "right", "left", "Right", "0", "-0", "nan", "1e308"]),
    st.text(max_size=12),
)  # fmt: skip
COLUMN = st.sampled_from(["side", "change_pct", "category", "status", "threshold_pct"])


@st.composite
def mutations(draw: st.DrawFn) -> tuple[list[dict[str, str]], set[int]]:
    """Valid rows with some cells rewritten, signs flipped, volumes made negative or rows duplicated;
    and the lines (2 = first row) a refusal may name.

    A volume edited to another plausible value, a group or a patient renamed, is new data, not a
    mutation: it may change the statistics (a renamed patient is one more patient) and is not drawn
    here; a patient renamed onto another's hip is a duplicated row, which is drawn.
    """
    rows = valid_rows()
    touched: set[int] = set()
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(rows) - 1))
        kind = draw(st.sampled_from(["cell", "flip", "negative", "duplicate", "nudge"]))
        if kind == "cell":
            rows[index][draw(COLUMN)] = draw(CELL_TEXT)
        elif kind == "flip":
            value = rows[index]["change_pct"]
            rows[index]["change_pct"] = value[1:] if value.startswith("-") else "-" + value
        elif kind == "negative":
            rows[index][draw(st.sampled_from(COLUMNS[4:6]))] = f"-{draw(st.floats(0.001, 100))}"
        elif kind == "nudge":  # within what a spreadsheet's rounding may do: still the same hip
            nudged = float(category(*(float(rows[index][c]) for c in COLUMNS[4:6]))[0]) + draw(
                st.floats(-0.04, 0.04)
            )
            rows[index]["change_pct"] = f"{nudged:.6f}"
        else:
            rows.insert(draw(st.integers(0, len(rows))), dict(rows[index]))
            touched = {line + 1 if line >= index + 2 else line for line in touched} | set(
                range(2, len(rows) + 2)
            )
            continue
        touched.add(index + 2)
    return rows, touched


def statistics_of(path: Path) -> dict:
    data = study_statistics(path).to_dict()
    data.pop("results")
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
def test_any_mutation_gives_the_same_statistics_or_a_refusal_naming_a_changed_line(
    tmp_path: Path, mutation: tuple[list[dict[str, str]], set[int]]
) -> None:
    expected = statistics_of(write(tmp_path / "valid.csv", valid_rows()))
    rows, touched = mutation
    path = write(tmp_path / "mutated.csv", rows)
    try:
        got = statistics_of(path)
    except AnalysisError as refusal:
        message = str(refusal)
        assert "\n" not in message and "\r" not in message
        assert any(f"line {line}:" in message for line in touched), message
        return
    assert got == expected
