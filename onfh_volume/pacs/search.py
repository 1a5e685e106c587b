"""Find image series on the PACS by patient ID or accession number (QIDO-RS), for a reader to pick one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import PacsError
from .client import client, refusals

#: Series that are not images to trace on: segmentations, reports, structure sets, presentation states.
NOT_IMAGES = {"SEG", "SR", "RTSTRUCT", "PR", "KO", "DOC"}
FIELDS = [
    "StudyDate",
    "SeriesDescription",
    "SeriesNumber",
    "Modality",
    "PatientID",
    "NumberOfSeriesRelatedInstances",
]


@dataclass(frozen=True)
class SeriesFound:
    """One image series on the PACS: its UIDs and what a reader recognises it by."""

    study_uid: str
    series_uid: str
    patient_id: str
    study_date: str
    number: str
    description: str
    modality: str
    instances: int

    def label(self) -> str:
        """One line for a list: ``P001 2024-03-01 MR #3 'COR T1' (20 images)``."""
        date = self.study_date
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else date or "no date"
        return f"{self.patient_id} {date} {self.modality} #{self.number or '?'} '{self.description}' ({self.instances} images)"


def _text(item: dict, keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    value = item.get(f"{tag_for_keyword(keyword):08X}", {}).get("Value") or [""]
    return str(value[0])


def find_series(url: str, *, patient_id: str = "", accession: str = "") -> list[SeriesFound]:
    """The image series of the patient ``patient_id`` and/or of the exam ``accession`` on the PACS.

    Raises
    ------
    PacsError
        Neither was given, the server cannot be reached or refuses, or nothing matches.
    """
    filters = {
        key: value for key, value in (("PatientID", patient_id), ("AccessionNumber", accession)) if value
    }
    if not filters:
        raise PacsError(url, "give a patient ID or an accession number to search for")
    web = client(url)
    with refusals(url):
        studies = web.search_for_studies(search_filters=filters)
        found: list[Any] = []
        for study in studies:
            uid = _text(study, "StudyInstanceUID")
            found += [(uid, item) for item in web.search_for_series(study_instance_uid=uid, fields=FIELDS)]
    rows = [
        SeriesFound(
            study_uid=uid,
            series_uid=_text(item, "SeriesInstanceUID"),
            patient_id=_text(item, "PatientID") or patient_id,
            study_date=_text(item, "StudyDate"),
            number=_text(item, "SeriesNumber"),
            description=_text(item, "SeriesDescription"),
            modality=_text(item, "Modality"),
            instances=int(_text(item, "NumberOfSeriesRelatedInstances") or 0),
        )
        for uid, item in found
    ]
    rows = [row for row in rows if row.modality not in NOT_IMAGES]
    if not rows:
        wanted = " and ".join(f"{key} {value}" for key, value in filters.items())
        raise PacsError(url, f"no image series of {wanted} on the PACS")
    return sorted(rows, key=lambda row: (row.study_date, row.study_uid, int(row.number or 0)))
