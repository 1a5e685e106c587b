"""Drafted masks for a reader's review: lesions found without a click, a baseline carried to a follow-up."""
