"""Semi-automatic tracing of the necrotic lesion on coronal T1: one click, and the live wire."""
