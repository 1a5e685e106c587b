"""From the PACS and back over DICOMweb: pull a study's series (QIDO-RS, WADO-RS), push files (STOW-RS).

DICOMweb, not DIMSE: it is plain HTTPS, so it passes hospital proxies and firewalls, takes the
same credentials and certificates as any web service, and needs no AE title configured on the
PACS for this workstation (a C-GET or C-MOVE peer must be registered there by its administrator).
Orthanc, dcm4chee and most vendors' archives serve it.
"""
