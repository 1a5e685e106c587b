# Two commands on a fresh machine (Debian, Python 3.11): `make demo` and `make test`.
# Both create .venv and install the project with everything it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLES := sample_scans

.PHONY: demo test lint samples clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@for patient in sub-01 sub-02 sub-03; do \
	  echo; echo "== $$patient: baseline vs follow-up (DICOM series, masks in NIfTI) =="; \
	  $(BIN)/onfh-volume compare \
	    $(SAMPLES)/dicom/$$patient/baseline $(SAMPLES)/masks/$${patient}_baseline_lesions.nii.gz \
	    $(SAMPLES)/dicom/$$patient/followup $(SAMPLES)/masks/$${patient}_followup_lesions.nii.gz || exit $$?; \
	done
	@echo; echo "== sub-01 baseline: per-lesion volumes and per-slice areas (the same study as NIfTI) =="
	$(BIN)/onfh-volume measure $(SAMPLES)/nifti/sub-01_baseline.nii.gz $(SAMPLES)/masks/sub-01_baseline_lesions.nii.gz

test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerate the committed sample scans (deterministic: the same bytes every time).
samples: $(STAMP)
	$(BIN)/python $(SAMPLES)/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
