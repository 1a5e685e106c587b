# Two commands on a fresh machine (Debian, Python 3.11): `make demo` and `make test`.
# Both create .venv and install the project with everything it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLES := sample_scans

# What Qt needs to open windows on a virtual X screen: the GUI tests run in a real napari viewer.
GUI_PACKAGES := xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0
# A real PACS for the pull/push tests and `make demo` (Orthanc with DICOMweb), and dicom3tools'
# dciodvfy, which checks the structured reports.
PACS_PACKAGES := orthanc orthanc-dicomweb dicom3tools
# napari draws with OpenGL: Qt's offscreen platform has none, Xvfb (through Mesa) has.
XVFB := xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb

BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: demo test lint samples gui-packages pacs-packages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	touch $(STAMP)

demo: $(STAMP) pacs-packages
	@for patient in sub-01 sub-02 sub-03; do \
	  echo; echo "== $$patient: baseline vs follow-up (DICOM series, masks in NIfTI) =="; \
	  $(BIN)/onfh-volume compare \
	    $(SAMPLES)/dicom/$$patient/baseline $(SAMPLES)/masks/$${patient}_baseline_lesions.nii.gz \
	    $(SAMPLES)/dicom/$$patient/followup $(SAMPLES)/masks/$${patient}_followup_lesions.nii.gz || exit $$?; \
	done
	@echo; echo "== zero clicks on sub-02: its lesions found without a click, then its baseline carried to the follow-up (drafts in build/drafts/) =="
	$(BIN)/onfh-volume detect $(SAMPLES)/dicom/sub-02/baseline -o build/drafts/sub-02_baseline_detected.nii.gz --force
	$(BIN)/onfh-volume propagate $(SAMPLES)/dicom/sub-02/baseline $(SAMPLES)/masks/sub-02_baseline_lesions.nii.gz \
	  $(SAMPLES)/dicom/sub-02/followup -o build/drafts/sub-02_followup_propagated.nii.gz --force
	@echo; echo "== sub-01 baseline: per-lesion volumes and per-slice areas (the same study as NIfTI) =="
	$(BIN)/onfh-volume measure $(SAMPLES)/nifti/sub-01_baseline.nii.gz $(SAMPLES)/masks/sub-01_baseline_lesions.nii.gz
	@echo; echo "== the sample cohort in one command: one row per hip, per-slice areas and an HTML report in build/cohort/ =="
	$(BIN)/onfh-volume batch $(SAMPLES)/cohort.csv -o build/cohort/results.csv \
	  --per-slice build/cohort/per-slice.csv --report build/cohort/report.html --force
	@echo; echo "== two readers traced the same hips: their agreement and smallest detectable change (report in build/two-readers/) =="
	$(BIN)/onfh-volume agreement $(SAMPLES)/cohort-two-readers.csv -o build/two-readers/per-pair.csv \
	  --report build/two-readers/agreement.html --force
	@echo; echo "== the study's statistics from the batch's results, with the manifest's clinical columns =="
	$(BIN)/onfh-volume batch $(SAMPLES)/cohort-two-readers.csv -o build/two-readers/results.csv --force --quiet
	$(BIN)/onfh-volume stats build/two-readers/results.csv --reader R1 --event collapse --time followup_months \
	  --report build/two-readers/stats.html --force
	@echo; echo "== from the PACS and back: a local Orthanc, sub-01 pushed, pulled, measured, its SEG and report sent =="
	$(BIN)/python -m onfh_volume.pacs.demo

# pytest's plugins that load Qt or napari, switched off for the core's tests.
NO_GUI_PLUGINS := -p no:pytest-qt -p no:napari -p no:napari-plugin-engine -p no:npe2

# The core (tests and docstring examples) with every GUI toolkit blocked: it must need none;
# then the plugin in a real napari viewer on a virtual screen.
test: $(STAMP) lint gui-packages pacs-packages
	ONFH_BLOCK_GUI=1 $(BIN)/pytest $(NO_GUI_PLUGINS) tests/core onfh_volume
	$(XVFB) $(BIN)/pytest tests/plugin plugins

# Installs only the Debian packages that are missing (needs root, or sudo).
define debian_packages
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for $(2):" $$missing; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

gui-packages:
	$(call debian_packages,$(GUI_PACKAGES),the GUI tests)

pacs-packages:
	$(call debian_packages,$(PACS_PACKAGES),the PACS tests and demo)

# Style, then types of the core (mypy: its configuration is in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[all,test,bench]'
	touch $(BENCH_STAMP)

# Speed goals, each against the tool a user would otherwise reach for; figures go to docs/performance/.
bench: $(BENCH_STAMP) gui-packages
	@missed=""; for script in benchmarks/bench_*.py; do \
	  echo; echo "== $$script =="; $(XVFB) $(BIN)/python $$script || missed="$$missed $$script"; \
	done; \
	if [ -n "$$missed" ]; then echo; echo "targets missed in:$$missed (see docs/performance/)"; exit 1; fi

# Regenerate the committed sample scans (deterministic: the same bytes every time).
samples: $(STAMP)
	$(BIN)/python $(SAMPLES)/generate.py
	$(BIN)/python $(SAMPLES)/generate_two_readers.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
